/**
 * Typed failures against real Python Celery 5.2, both ways, on the rpc:// (AMQP) and the
 * Redis result backends, with the generated module fixtures/typed-failures/tasks.ts:
 * a Python task's exception reaches TypeScript as the generated class (and its bases),
 * a builtin as `builtins.*`, and a TypeScript handler's generated class reaches a Python
 * client as the real Python class, which `except ThatClass:` and `except Base:` catch.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Celery, TaskError, builtins, chain, chord, group, signature, silentLogger, step, type Step, type Worker } from 'celery-gen';
import { BillingError, CardDeclined, Fraud, MissingAccount, TASK_SPECS, createClient, createWorker, type TaskClients } from '../fixtures/typed-failures/tasks.js';
import { BROKER_URL, rawBroker } from './support/broker.js';
import { interopSkip, PYTHON, startPythonWorker, type PythonWorker } from './support/python.js';

const skip = await interopSkip();
const PEER_DIR = fileURLToPath(new URL('../fixtures/typed-failures/', import.meta.url));
const GET = { timeout: 15_000 };
/** This branch's Redis database: other test files use theirs. */
const REDIS_BACKEND = 'redis://127.0.0.1:6379/8';

/** A plain JS subclass: no Python identity of its own, so Python sees its nearest generated class. */
class DetailedDecline extends CardDeclined {}
/** Same name as the generated class, but not it: must not pretend to be proj.errors.CardDeclined. */
class FakeCardDeclined extends Error {
  override name = 'CardDeclined';
}

interface PeerOutcome {
  ok: boolean;
  caught?: string;
  class?: string;
  is_billing?: boolean;
  args?: unknown[];
}

async function runPeerClient(queue: string, backend: string, calls: { task: string; args: unknown[] }[]): Promise<PeerOutcome[]> {
  const child = spawn(PYTHON, ['peer.py'], { cwd: PEER_DIR, env: { ...process.env, CELERY_GEN_BROKER: BROKER_URL, TF_BACKEND: backend }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.stdin.end(JSON.stringify({ queue, calls }));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`peer.py exited with ${code}:\n${err}`);
  return JSON.parse(out) as PeerOutcome[];
}

async function rejection(promise: Promise<unknown>): Promise<TaskError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TaskError, `expected a TaskError, got ${String(error)}`);
    return error;
  }
  assert.fail('the task succeeded');
}

for (const { label, backend } of [
  { label: 'rpc:// over AMQP', backend: 'rpc://' },
  { label: 'the Redis backend (DB 8)', backend: REDIS_BACKEND },
]) {
  describe(`typed failures, ${label}`, { skip }, () => {
    const suffix = `${process.pid}_${backend === 'rpc://' ? 'rpc' : 'redis'}`;
    const pyQueue = `typed_failures_py_${suffix}`;
    const tsQueue = `typed_failures_ts_${suffix}`;
    let python: PythonWorker;
    let app: Celery;
    let workerApp: Celery;
    let worker: Worker;
    let tasks: TaskClients;

    before(async () => {
      python = await startPythonWorker(pyQueue, { app: 'peer', cwd: PEER_DIR, env: { TF_BACKEND: backend } });
      app = new Celery({ broker: BROKER_URL, backend, defaultQueue: pyQueue, logger: silentLogger });
      tasks = createClient(app);
      workerApp = new Celery({ broker: BROKER_URL, backend, logger: silentLogger });
      worker = createWorker(
        workerApp,
        {
          tasks: {
            charge: (customer, cents) => {
              if (customer === 'declined') throw new CardDeclined('card declined', cents);
              if (customer === 'detailed') throw new DetailedDecline('detailed decline');
              if (customer === 'fake') throw new FakeCardDeclined('not the generated class');
              if (customer === 'key') throw new builtins.KeyError(customer);
              return 'ok';
            },
            refund: () => null,
            lookup: (customer) => {
              throw new MissingAccount(customer);
            },
            plain: () => null,
          },
        },
        { queues: [tsQueue], handleSignals: false },
      );
      await worker.start();
    });

    after(async () => {
      try {
        await app?.close();
        await workerApp?.close();
        await python?.stop();
      } finally {
        await (await rawBroker()).close([pyQueue, tsQueue]);
      }
    });

    test('a Python worker raising a subclass: instanceof the subclass and its bases, with the message', async () => {
      const error = await rejection((await tasks.tasks.charge.delay('x', 1)).get(GET));
      assert.ok(error instanceof Fraud);
      assert.ok(error instanceof CardDeclined);
      assert.ok(error instanceof BillingError);
      assert.ok(error instanceof builtins.Exception);
      assert.deepEqual([error.excModule, error.excType, error.excMessage], ['proj.errors', 'Fraud', ['x']]);
      assert.deepEqual((error as Fraud).args, ['x']);
      assert.equal(error.message, 'Fraud: x');
      assert.match(error.traceback ?? '', /proj\.errors\.Fraud: x/);
      assert.equal(error.state, 'FAILURE');
    });

    test("a Python builtin KeyError is builtins.KeyError (a LookupError), never JavaScript's own classes", async () => {
      const error = await rejection((await tasks.tasks.charge.delay('bob', 1)).get(GET));
      assert.ok(error instanceof builtins.KeyError);
      assert.ok(error instanceof builtins.LookupError);
      assert.ok(!(error instanceof builtins.ValueError));
      assert.ok(!(error instanceof globalThis.TypeError) && !(error instanceof RangeError));
      assert.deepEqual(error.excMessage, ['bob']);
      const missing = await rejection((await tasks.tasks.lookup.delay('zed')).get(GET));
      assert.ok(missing instanceof MissingAccount && missing instanceof builtins.KeyError);
    });

    test('failures inside a group reach get() as the generated class', async () => {
      const grouped = await group(signature(TASK_SPECS.tasks.charge, ['ann', 1], {}, { queue: pyQueue }), signature(TASK_SPECS.tasks.charge, ['x', 2], {}, { queue: pyQueue })).applyAsync(app);
      const error = await rejection(grouped.get(GET));
      assert.ok(error instanceof Fraud && error instanceof BillingError);
    });

    test('a failing last step of a chain reaches get() as the generated class', async () => {
      const chained = await chain(signature(TASK_SPECS.tasks.charge, ['ann', 1], {}, { queue: pyQueue }), step(TASK_SPECS.tasks.lookup, [], {}, { queue: pyQueue })).applyAsync(app);
      const error = await rejection(chained.get(GET));
      assert.ok(error instanceof MissingAccount && error instanceof builtins.LookupError);
      assert.deepEqual(error.excMessage, ['ok']);
    });

    // rpc:// cannot join a chord (as in Python): only the Redis backend has this test.
    if (backend !== 'rpc://') test('a chord whose body fails reaches get() as the generated class', async () => {
      // lookup() is typed for one string; the chord hands it the header's results, and it raises MissingAccount(['ok']).
      const body = step(TASK_SPECS.tasks.lookup, [], {}, { queue: pyQueue }) as unknown as Step<[string], number>;
      const joined = await chord([signature(TASK_SPECS.tasks.charge, ['ann', 1], {}, { queue: pyQueue })], body).applyAsync(app);
      const error = await rejection(joined.get(GET));
      assert.ok(error instanceof MissingAccount, String(error));
      assert.deepEqual(error.excMessage, [['ok']]);
    });

    test('a TypeScript handler throwing the generated class: Python catches the real class, and its base', async () => {
      const outcomes = await runPeerClient(tsQueue, backend, [
        { task: 'proj.tasks.charge', args: ['declined', 42] },
        { task: 'proj.tasks.charge', args: ['detailed', 1] },
        { task: 'proj.tasks.charge', args: ['fake', 1] },
        { task: 'proj.tasks.charge', args: ['key', 1] },
        { task: 'proj.tasks.lookup', args: ['zed'] },
      ]);
      const [declined, detailed, fake, key, missing] = outcomes;
      assert.deepEqual(declined, { ok: false, caught: 'CardDeclined', class: 'proj.errors.CardDeclined', is_billing: true, args: ['card declined', 42] });
      // A plain JS subclass has no Python class: it is reported as its nearest generated one.
      assert.deepEqual(detailed, { ok: false, caught: 'CardDeclined', class: 'proj.errors.CardDeclined', is_billing: true, args: ['detailed decline'] });
      // A JS class merely named CardDeclined does not pretend: Python's except CardDeclined misses it.
      assert.equal(fake?.caught, 'Exception');
      assert.notEqual(fake?.class, 'proj.errors.CardDeclined');
      assert.equal(fake?.is_billing, false);
      assert.deepEqual(key, { ok: false, caught: 'KeyError', class: 'builtins.KeyError', is_billing: false, args: ['key'] });
      assert.deepEqual(missing, { ok: false, caught: 'KeyError', class: 'proj.errors.MissingAccount', is_billing: false, args: ['zed'] });
    });
  });
}
