/**
 * Shutdown under load (issue 5): a TS worker process with four tasks running and more
 * queued gets SIGTERM. Every started task's result must arrive, the process must exit 0,
 * and every message it had not started must go to a second worker; each task runs exactly
 * once across both (the first worker's by the results that arrived before it exited, the
 * second's by its own ledger of task ids).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Celery, currentTask, implementTask, silentLogger, type TaskState } from 'celery-gen';
import { createClient, TASK_SPECS } from '../fixtures/interop/tasks.js';
import { BROKER_URL, brokerMissing, queueCounts, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = 4;
const TASKS = 24;
const TASK_MS = 1500;

describe('SIGTERM with tasks in flight', { skip: await brokerMissing() }, () => {
  let broker: RawBroker;
  let app: Celery;
  let child: ChildProcess | undefined;
  const queue = uniqueQueue('relshutdown');

  before(async () => {
    broker = await rawBroker();
    app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger });
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await app.close();
    await broker.close([queue]);
  });

  test('started tasks finish and answer, unstarted ones go to a second worker, each runs once', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'fixtures/interop/ts-worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, CELERY_GEN_BROKER: BROKER_URL, CELERY_GEN_QUEUE: queue, CELERY_GEN_CONCURRENCY: String(CONCURRENCY) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await waitFor(() => output.includes('ready\n') || child!.exitCode !== null, 20_000, 'the worker process to be ready');

    const tasks = createClient(app);
    const results = await Promise.all(Array.from({ length: TASKS }, () => tasks.sleepMs.delay(TASK_MS)));
    const finals = new Map<string, number>();
    const doneAt = new Map<string, number>();
    for (const result of results) {
      const tracked = result as typeof result & { onState(listener: (state: TaskState) => void): () => void };
      tracked.onState((state) => {
        if (state !== 'SUCCESS' && state !== 'FAILURE') return;
        finals.set(result.id, (finals.get(result.id) ?? 0) + 1);
        doneAt.set(result.id, performance.now());
      });
    }
    await waitFor(async () => (await queueCounts(broker, queue)).messages === TASKS - CONCURRENCY, 10_000, 'the worker to take four tasks');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    const exitAt = performance.now();
    assert.match(output, /SIGTERM received/);

    const byFirst = [...doneAt.entries()].filter(([, at]) => at <= exitAt).map(([id]) => id);
    assert.equal(byFirst.length, CONCURRENCY, `the ${CONCURRENCY} started tasks answered before the process exited`);
    await waitFor(async () => (await queueCounts(broker, queue)).messages === TASKS - CONCURRENCY, 5000, 'the unstarted messages to be back in the queue');

    const ranOnSecond = new Map<string, number>();
    const second = app.createWorker(
      [
        implementTask(TASK_SPECS.sleepMs, (ms: number) => {
          const id = currentTask()!.id;
          ranOnSecond.set(id, (ranOnSecond.get(id) ?? 0) + 1);
          return ms;
        }),
      ],
      { queues: [queue], concurrency: 10, handleSignals: false },
    );
    await second.start();
    const values = await Promise.all(results.map((r) => r.get({ timeout: 30_000 })));
    assert.deepEqual(values, Array(TASKS).fill(TASK_MS));
    assert.deepEqual([...ranOnSecond.values()].filter((n) => n !== 1), [], 'the second worker ran no task twice');
    assert.deepEqual(byFirst.filter((id) => ranOnSecond.has(id)), [], 'no task the first worker finished ran again');
    assert.equal(ranOnSecond.size + byFirst.length, TASKS, 'every task ran on one of the two workers');
    assert.deepEqual([...finals.values()].filter((n) => n !== 1), [], 'one final state per task');
    assert.equal(finals.size, TASKS);
    await second.stop();
    assert.deepEqual(await queueCounts(broker, queue), { messages: 0, consumers: 0 });
  });
});
