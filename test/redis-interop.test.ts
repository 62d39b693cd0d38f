/**
 * The Celery app with Redis, end to end against Python Celery 5.2.6, in the two
 * configurations issue 7 names: Redis broker + Redis backend, and AMQP broker + Redis
 * backend. Both directions (generated TS client → Python worker, Python client → TS
 * worker), a readable failure each way, a task rescued after a late-acking worker is
 * SIGKILLed mid-task (each side rescuing the other's), and a chord whose header runs on
 * one side and whose callback runs on the other.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { Celery, TaskError, defineTask, implementTask, sendChord, silentLogger } from 'celery-gen';
import { CeleryGenError } from '../runtime/protocol/errors.js';
import { handlers } from '../fixtures/redis-interop/handlers.js';
import { createClient, createWorker, TASK_SPECS } from '../fixtures/redis-interop/tasks.js';

import {
  AMQP_URL,
  flushTestDbs,
  rawRedis,
  REDIS_BACKEND_DB,
  REDIS_BROKER_DB,
  REDIS_BACKEND_URL,
  REDIS_BROKER_URL,
  redisPeerMissing,
  runDriver,
  startPythonRedisWorker,
  type PythonOutcome,
  type PythonRedisWorker,
  uniqueQueue,
  waitUntil,
} from './support/redis.js';

const skip = redisPeerMissing();
const VISIBILITY = 3;
const GET = { timeout: 20_000 };

describe('Redis interop fixture', () => {
  test('fixtures/redis-interop/tasks.ts is what celery-gen generates from redis_tasks.py today', () => {
    const cli = fileURLToPath(new URL('../bin/celery-gen.js', import.meta.url));
    const dir = fileURLToPath(new URL('../fixtures/redis-interop/', import.meta.url));
    const check = spawnSync(process.execPath, [cli, 'redis_tasks.py', '-o', 'tasks.ts', '--check'], { cwd: dir, encoding: 'utf8' });
    assert.equal(check.status, 0, `regenerate with: cd fixtures/redis-interop && celery-gen redis_tasks.py -o tasks.ts\n${check.stdout}${check.stderr}`);
  });
});

describe('Celery app construction: broker/backend pairs', () => {
  test('every pair Python supports is accepted; others are refused at construction, passwords redacted', async () => {
    for (const [broker, backend] of [
      [AMQP_URL, 'rpc://'],
      [AMQP_URL, 'redis://:pw@127.0.0.1:6379/1'],
      ['redis://:pw@127.0.0.1:6379/0', 'redis://:pw@127.0.0.1:6379/1'],
      ['rediss://:pw@127.0.0.1:6379/0', 'rpc://'],
    ] as const) {
      await new Celery({ broker, backend, logger: silentLogger }).close();
    }
    const refused: [string, string, RegExp][] = [
      ['sqs://key:secret@localhost', 'rpc://', /broker sqs:\/\/key:\*\*\*@localhost is not supported/],
      [AMQP_URL, 'db+postgresql://u:secret@h/db', /result backend db\+postgresql:\/\/u:\*\*\*@h\/db is not supported/],
      ['redis://:secret@h/0', 'mongodb://u:secret@h/db', /result backend mongodb:\/\/u:\*\*\*@h\/db is not supported/],
      ['redis://:secret@h/zero', 'rpc://', /database must be a number/],
    ];
    for (const [broker, backend, message] of refused) {
      assert.throws(
        () => new Celery({ broker, backend, logger: silentLogger }),
        (e: unknown) => e instanceof Error && message.test(e.message) && !e.message.includes('secret'),
        `${broker} + ${backend}`,
      );
    }
    assert.throws(() => new Celery({ broker: 'redis://h/0', backend: 'cache+memcached://h/' }), (e: unknown) => e instanceof CeleryGenError && e.code === 'UNSUPPORTED_BACKEND');
  });
});

const CONFIGS = [
  { name: 'Redis broker + Redis backend', broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL },
  { name: 'AMQP broker + Redis backend', broker: AMQP_URL, backend: REDIS_BACKEND_URL },
] as const;

for (const config of CONFIGS) {
  describe(`${config.name} ↔ Python Celery 5.2.6`, { skip }, () => {
    const peer = { broker: config.broker, backend: config.backend, visibilityTimeout: VISIBILITY };
    const apps: Celery[] = [];
    const pythonWorkers: PythonRedisWorker[] = [];
    const queues: string[] = [];
    const newApp = (): Celery => {
      const app = new Celery({
        broker: config.broker,
        backend: config.backend,
        logger: silentLogger,
        brokerTransportOptions: { visibilityTimeout: VISIBILITY, restoreInterval: 500 },
      });
      apps.push(app);
      return app;
    };
    const queue = (label: string): string => {
      const name = uniqueQueue(`redis_app_${label}`);
      queues.push(name);
      return name;
    };

    before(flushTestDbs);
    afterEach(async () => {
      for (const w of pythonWorkers.splice(0)) await w.kill();
      await Promise.allSettled(apps.splice(0).map((a) => a.close()));
    });
    after(async () => {
      await flushTestDbs();
      if (config.broker === AMQP_URL) await deleteAmqpQueues(queues);
    });

    test('generated TS client → Python worker: a value, and a Python ValueError as TaskError', async () => {
      const q = queue('py');
      pythonWorkers.push(await startPythonRedisWorker(q, peer));
      const tasks = createClient(newApp());
      assert.equal(await (await tasks.add.applyAsync([2, 3], {}, { queue: q })).get(GET), 5);
      assert.equal(await (await tasks.tsum.applyAsync([[1, 2, 3, 4]], {}, { queue: q })).get(GET), 10);
      const failing = await tasks.fail.applyAsync(['python says no'], {}, { queue: q });
      await assert.rejects(failing.get(GET), (e: unknown) => {
        assert.ok(e instanceof TaskError);
        assert.equal(e.excType, 'ValueError');
        assert.equal(e.excModule, 'builtins');
        assert.deepEqual(e.excMessage, ['python says no']);
        assert.match(e.traceback ?? '', /raise ValueError\(message\)/);
        return true;
      });
    });

    test('Python client → TS worker: Python get() returns the value and raises the TS failure as a builtin ValueError', async () => {
      const q = queue('ts');
      const app = newApp();
      const worker = createWorker(app, handlers, { queues: [q], concurrency: 2, handleSignals: false });
      await worker.start();
      const outcomes = await runDriver<PythonOutcome[]>(
        {
          op: 'call',
          calls: [
            { task: 'redis_tasks.add', args: [40, 2], options: { queue: q } },
            { task: 'redis_tasks.add', kwargs: { x: 1, y: 2 }, options: { queue: q } },
            { task: 'redis_tasks.fail', args: ['ts says no'], options: { queue: q } },
          ],
        },
        peer,
      );
      assert.equal(outcomes[0]!.ok && outcomes[0]!.value, 42);
      assert.equal(outcomes[1]!.ok && outcomes[1]!.value, 3);
      const failure = outcomes[2]!;
      assert.equal(failure.ok, false);
      if (!failure.ok) {
        assert.equal(failure.type, 'ValueError');
        assert.equal(failure.module, 'builtins');
        assert.equal(failure.message, 'ts says no');
        assert.equal(failure.state, 'FAILURE');
      }
      await worker.stop();
    });

    test('a Python worker SIGKILLed mid-task (acks_late): the TS worker gets the task again and runs it', async () => {
      const q = queue('kill_py');
      const dir = mkdtempSync(join(tmpdir(), 'cg-redis-app-'));
      try {
        const marker = join(dir, 'marker');
        const python = await startPythonRedisWorker(q, peer);
        pythonWorkers.push(python);
        const app = newApp();
        // Long enough that the kill always lands mid-task, even on a loaded machine.
        const result = await createClient(app).slow.applyAsync([marker, 2], {}, { queue: q });
        await waitUntil(() => read(marker).includes('started'), 15_000, 'the Python task to start');
        await python.kill();
        const worker = createWorker(app, handlers, { queues: [q], handleSignals: false });
        await worker.start();
        assert.equal(await result.get(GET), 'ts slept 2');
        assert.match(read(marker), /started \d+\nstarted ts \d+\n/);
        await worker.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a TS worker SIGKILLed mid-task: a Python worker gets the task again and runs it', async () => {
      const q = queue('kill_ts');
      const dir = mkdtempSync(join(tmpdir(), 'cg-redis-app-'));
      try {
        const marker = join(dir, 'marker');
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', fileURLToPath(new URL('./support/redis-ts-worker.ts', import.meta.url)), config.broker, config.backend, q, String(VISIBILITY)],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        const exited = new Promise((resolve) => child.once('exit', resolve));
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        try {
          await waitUntil(() => out.includes('ready'), 20_000, 'the TS worker process');
          const result = await createClient(newApp()).slow.applyAsync([marker, 2], {}, { queue: q });
          await waitUntil(() => read(marker).includes('started ts'), 15_000, 'the TS task to start');
          child.kill('SIGKILL');
          await exited;
          // Redis: Python restores timed-out messages when it starts polling; RabbitMQ requeues at once.
          if (config.broker !== AMQP_URL) await new Promise((r) => setTimeout(r, VISIBILITY * 1000 + 300));
          pythonWorkers.push(await startPythonRedisWorker(q, peer));
          assert.equal(await result.get(GET), 'slept 2');
        } finally {
          child.kill('SIGKILL');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a chord: header tasks on the TS worker, callback on a Python worker', async () => {
      const tsQueue = queue('chord_ts');
      const pyQueue = queue('chord_py');
      pythonWorkers.push(await startPythonRedisWorker(pyQueue, peer));
      const worker = createWorker(newApp(), handlers, { queues: [tsQueue], concurrency: 3, handleSignals: false });
      await worker.start();
      const outcome = await runDriver<PythonOutcome>(
        {
          op: 'chord',
          header: [1, 2, 3].map((n) => ({ task: 'redis_tasks.add', args: [n, n], options: { queue: tsQueue } })),
          body: { task: 'redis_tasks.tsum', options: { queue: pyQueue } },
          timeout: 20,
        },
        peer,
      );
      assert.equal(outcome.ok && outcome.value, 12, JSON.stringify(outcome));
      await worker.stop();
    });

    test('a chord sent by the TS client: header on the TS worker, callback on a Python worker; and the reverse', async () => {
      const tsQueue = queue('chord_ts_client_ts');
      const pyQueue = queue('chord_ts_client_py');
      pythonWorkers.push(await startPythonRedisWorker(pyQueue, peer));
      const app = newApp();
      const worker = createWorker(app, handlers, { queues: [tsQueue], concurrency: 2, handleSignals: false });
      await worker.start();
      const headerOnTs = await sendChord<number>(
        app,
        [1, 2, 3, 4].map((n) => ({ name: TASK_SPECS.add.name, spec: TASK_SPECS.add, args: [n, 1], options: { queue: tsQueue } })),
        { name: TASK_SPECS.tsum.name, spec: TASK_SPECS.tsum, options: { queue: pyQueue } },
      );
      assert.equal(await headerOnTs.get(GET), 14);
      const headerOnPython = await sendChord<number>(
        app,
        [10, 20].map((n) => ({ name: TASK_SPECS.add.name, args: [n, n], options: { queue: pyQueue } })),
        { name: TASK_SPECS.tsum.name, options: { queue: tsQueue } },
      );
      assert.equal(await headerOnPython.get(GET), 60);
      // Python reads the same chord's callback result.
      const python = await runDriver<PythonOutcome>({ op: 'get', id: headerOnPython.id, timeout: 5 }, peer);
      assert.equal(python.ok && python.value, 60);
      await worker.stop();
    });

    test('a chord: header tasks on a Python worker, callback on the TS worker', async () => {
      const tsQueue = queue('chord_ts');
      const pyQueue = queue('chord_py');
      pythonWorkers.push(await startPythonRedisWorker(pyQueue, peer));
      const seen: number[][] = [];
      const worker = createWorker(newApp(), { ...handlers, tsum: (values) => (seen.push(values), handlers.tsum(values)) }, { queues: [tsQueue], handleSignals: false });
      await worker.start();
      const outcome = await runDriver<PythonOutcome>(
        {
          op: 'chord',
          header: [5, 6].map((n) => ({ task: 'redis_tasks.add', args: [n, 100], options: { queue: pyQueue } })),
          body: { task: 'redis_tasks.tsum', options: { queue: tsQueue } },
          timeout: 20,
        },
        peer,
      );
      assert.equal(outcome.ok && outcome.value, 211, JSON.stringify(outcome));
      assert.deepEqual(seen, [[105, 106]]);
      await worker.stop();
    });
  });
}

describe('Redis broker + rpc:// backend ↔ Python Celery 5.2.6', { skip }, () => {
  const peer = { broker: REDIS_BROKER_URL, backend: 'rpc://' };
  const apps: Celery[] = [];
  const pythonWorkers: PythonRedisWorker[] = [];
  before(flushTestDbs);
  after(async () => {
    for (const w of pythonWorkers.splice(0)) await w.kill();
    await Promise.allSettled(apps.map((a) => a.close()));
    await flushTestDbs();
  });

  test('TS client → Python worker and Python client → TS worker, results over Redis lists', async () => {
    const app = new Celery({ broker: REDIS_BROKER_URL, backend: 'rpc://', logger: silentLogger });
    apps.push(app);
    const pyQueue = uniqueQueue('redis_rpc_py');
    pythonWorkers.push(await startPythonRedisWorker(pyQueue, peer));
    const tasks = createClient(app);
    assert.equal(await (await tasks.add.applyAsync([7, 8], {}, { queue: pyQueue })).get(GET), 15);
    await assert.rejects((await tasks.fail.applyAsync(['rpc no'], {}, { queue: pyQueue })).get(GET), (e: unknown) => e instanceof TaskError && e.excType === 'ValueError');

    const tsQueue = uniqueQueue('redis_rpc_ts');
    const worker = createWorker(app, handlers, { queues: [tsQueue], handleSignals: false });
    await worker.start();
    const outcomes = await runDriver<PythonOutcome[]>(
      { op: 'call', calls: [{ task: 'redis_tasks.add', args: [1, 1], options: { queue: tsQueue } }, { task: 'redis_tasks.fail', args: ['x'], options: { queue: tsQueue } }] },
      peer,
    );
    assert.equal(outcomes[0]!.ok && outcomes[0]!.value, 2);
    assert.equal(!outcomes[1]!.ok && outcomes[1]!.type, 'ValueError');
    // The TS client's own reply list, answered by its own worker too.
    assert.equal(await (await tasks.add.applyAsync([2, 2], {}, { queue: tsQueue })).get(GET), 4);
    await worker.stop();
  });
});

describe('Redis broker + Redis backend: connections killed while tasks are in flight', { skip }, () => {
  before(flushTestDbs);
  after(flushTestDbs);

  test('every task runs and every result arrives although all our Redis connections are killed three times', async () => {
    const name = `cg-kill-${process.pid}`;
    const app = new Celery({
      broker: REDIS_BROKER_URL,
      backend: REDIS_BACKEND_URL,
      logger: silentLogger,
      brokerTransportOptions: { connectionName: name, visibilityTimeout: 60 },
    });
    const queue = uniqueQueue('redis_app_kill');
    const admin = rawRedis(REDIS_BROKER_DB);
    const CONCURRENCY = 4;
    let running = 0;
    let kills = 0;
    const killed: number[] = [];
    const ran = new Map<number, number>();
    const spec = defineTask<[n: number], { n?: number }, number>({
      name: 'redis_tasks.square',
      bind: false,
      params: [{ name: 'n', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } }],
      options: {},
    });
    const worker = app.createWorker(
      [
        implementTask(spec, async (n: number) => {
          ran.set(n, (ran.get(n) ?? 0) + 1);
          running++;
          // Every slot busy means no BRPOP is outstanding: a kill now cannot catch a message
          // in the instant Redis hands it out (that one window is as lossy as kombu's).
          if (running === CONCURRENCY && kills < 3 && n % 10 === 3) {
            kills++;
            killed.push(await killConnections(admin, name));
          }
          await new Promise((r) => setTimeout(r, 30));
          running--;
          return n * n;
        }),
      ],
      { queues: [queue], concurrency: CONCURRENCY, handleSignals: false },
    );
    try {
      await worker.start();
      const results = [];
      for (let n = 0; n < 120; n++) results.push(await app.sendTask(spec.name, [n], {}, { queue }, spec));
      const values = await Promise.all(results.map((r) => r.get({ timeout: 30_000 })));
      assert.deepEqual(values, Array.from({ length: 120 }, (_, n) => n * n));
      assert.equal(kills, 3);
      // Always the broker's command and consumer connections; later also the result backend's two.
      assert.ok(killed.every((k) => k >= 2) && killed.some((k) => k >= 4), `connections killed each time: ${killed.join(', ')}`);
      assert.equal(ran.size, 120);
      await worker.stop();
    } finally {
      admin.disconnect();
      await app.close();
    }
  });
});

describe('A chord sent by the TS client, as Python 5.2.6 sends one (captured)', { skip }, () => {
  before(flushTestDbs);
  after(flushTestDbs);

  test('header messages carry group, group_index and the callback in embed.chord; the .s key holds the size; rpc:// is refused', async () => {
    const app = new Celery({ broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL, logger: silentLogger });
    const queue = uniqueQueue('redis_chord_shape');
    const broker = rawRedis(REDIS_BROKER_DB);
    const results = rawRedis(REDIS_BACKEND_DB);
    try {
      const chord = await sendChord(app, [1, 2].map((n) => ({ name: TASK_SPECS.add.name, spec: TASK_SPECS.add, args: [n, n], options: { queue } })), { name: TASK_SPECS.tsum.name, spec: TASK_SPECS.tsum });
      const capture = JSON.parse(readFileSync(new URL('../fixtures/messages/celery-5.2/v2-task-chord-redis.json', import.meta.url), 'utf8')) as {
        messages: { headers: Record<string, unknown>; body_parsed: [unknown, unknown, { chord: Record<string, unknown> }] }[];
      };
      const ours = (await broker.lrange(queue, 0, -1)).reverse().map((raw) => {
        const envelope = JSON.parse(raw) as { headers: Record<string, unknown>; body: string };
        return { headers: envelope.headers, body: JSON.parse(Buffer.from(envelope.body, 'base64').toString('utf8')) as [unknown[], unknown, { chord: Record<string, unknown> }] };
      });
      assert.equal(ours.length, 2);
      ours.forEach((message, index) => {
        const theirs = capture.messages[index]!;
        assert.deepEqual(Object.keys(message.headers), Object.keys(theirs.headers));
        assert.equal(message.headers.group, chord.groupId);
        assert.equal(message.headers.group_index, index);
        assert.deepEqual(Object.keys(message.body[2].chord), Object.keys(theirs.body_parsed[2].chord));
        assert.deepEqual(Object.keys(message.body[2].chord.options as object), ['task_id', 'reply_to']);
        assert.equal((message.body[2].chord.options as { task_id: string }).task_id, chord.id);
        assert.deepEqual(message.body[0], [index + 1, index + 1]);
      });
      assert.equal(await results.get(`celery-taskset-meta-${chord.groupId}.s`), '2');
      const rpc = new Celery({ broker: REDIS_BROKER_URL, backend: 'rpc://', logger: silentLogger });
      await assert.rejects(sendChord(rpc, [{ name: 'x' }], { name: 'y' }), /chord needs the Redis result backend/);
      await rpc.close();
    } finally {
      broker.disconnect();
      results.disconnect();
      await app.close();
    }
  });
});

describe('Redis broker: bad input never stops the TS worker and never vanishes', { skip }, () => {
  before(flushTestDbs);
  after(flushTestDbs);

  test('a list entry that is not an envelope is kept aside, a body that is not JSON is answered FAILURE; the next task still runs', async () => {
    const lines: string[] = [];
    const record = (level: string) => (message: string, fields?: Readonly<Record<string, unknown>>) => void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    const app = new Celery({ broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL, logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') } });
    const queue = uniqueQueue('redis_app_bad');
    const admin = rawRedis(REDIS_BROKER_DB);
    const results = rawRedis(REDIS_BACKEND_DB);
    try {
      const worker = createWorker(app, handlers, { queues: [queue], handleSignals: false });
      await worker.start();
      await admin.lpush(queue, 'this is not kombu JSON');
      // A valid envelope whose task body is not JSON: the id is known, so the caller is answered.
      const badId = randomUUID();
      await admin.lpush(
        queue,
        JSON.stringify({
          body: Buffer.from('{not json').toString('base64'),
          'content-encoding': 'utf-8',
          'content-type': 'application/json',
          headers: { lang: 'py', task: 'redis_tasks.add', id: badId },
          properties: { correlation_id: badId, reply_to: 'x', delivery_mode: 2, delivery_info: { exchange: '', routing_key: queue }, priority: 0, body_encoding: 'base64', delivery_tag: randomUUID() },
        }),
      );
      const tasks = createClient(app);
      assert.equal(await (await tasks.add.applyAsync([1, 2], {}, { queue })).get(GET), 3);
      assert.deepEqual(await admin.hvals('_celery_gen.unparseable'), ['this is not kombu JSON']);
      const meta = JSON.parse((await results.get(`celery-task-meta-${badId}`))!) as { status: string; result: { exc_type: string } };
      assert.equal(meta.status, 'FAILURE');
      assert.equal(meta.result.exc_type, 'InvalidTaskError');
      assert.ok(lines.some((l) => l.startsWith('error') && l.includes('not a kombu envelope')), lines.join('\n'));
      assert.ok(lines.some((l) => l.startsWith('error') && l.includes('malformed')), lines.join('\n'));
      await worker.stop();
    } finally {
      admin.disconnect();
      results.disconnect();
      await app.close();
    }
  });
});

async function killConnections(admin: ReturnType<typeof rawRedis>, prefix: string): Promise<number> {
  let killed = 0;
  for (const line of ((await admin.client('LIST')) as string).split('\n')) {
    const id = / id=(\d+)/.exec(` ${line}`)?.[1];
    const name = /name=(\S+)/.exec(line)?.[1];
    const db = /db=(\d+)/.exec(line)?.[1];
    if (id && name?.startsWith(`${prefix}-`) && (db === String(REDIS_BROKER_DB) || db === String(REDIS_BACKEND_DB))) {
      killed += Number(await admin.client('KILL', 'ID', id));
    }
  }
  return killed;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

async function deleteAmqpQueues(names: readonly string[]): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    for (const name of names) {
      const channel = await connection.createChannel();
      channel.on('error', (error: unknown) => process.stderr.write(`# deleting ${name}: ${String(error)}\n`));
      await channel.deleteQueue(name);
      await channel.close();
    }
  } finally {
    await connection.close();
  }
}
