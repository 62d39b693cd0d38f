/**
 * Graceful shutdown of a TS worker process (fixtures/interop/ts-worker.ts, which only
 * calls createWorker(...).start()): SIGTERM during a running task lets it finish, sends
 * its result and acks it, leaves the unstarted message queued, and exits 0. A second
 * signal exits at once without acking.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Celery, silentLogger } from 'celery-gen';
import { createClient } from '../fixtures/interop/tasks.js';
import { BROKER_URL, brokerMissing, queueCounts, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GET = { timeout: 10_000 };

async function startWorkerProcess(queue: string): Promise<{ child: ChildProcess; exit: Promise<number | null>; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'fixtures/interop/ts-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, CELERY_GEN_BROKER: BROKER_URL, CELERY_GEN_QUEUE: queue, CELERY_GEN_CONCURRENCY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(() => output.includes('ready\n') || child.exitCode !== null, 20_000, 'the TS worker process to be ready');
  assert.equal(child.exitCode, null, output);
  return { child, exit, output: () => output };
}

describe('TS worker process shutdown', { skip: await brokerMissing() }, () => {
  let broker: RawBroker;
  let app: Celery;
  const queues: string[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    broker = await rawBroker();
    app = new Celery({ broker: BROKER_URL, logger: silentLogger });
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await app.close();
    await broker.close(queues);
  });

  test('SIGTERM during a task: it finishes, its result arrives, it is acked, the process exits 0', async () => {
    const queue = uniqueQueue('shutdown');
    queues.push(queue);
    const worker = await startWorkerProcess(queue);
    children.push(worker.child);
    const tasks = createClient(app);
    const running = await tasks.sleepMs.applyAsync([1200], {}, { queue });
    const waiting = await tasks.add.applyAsync([1, 2], {}, { queue });
    // Prefetch 1: once one message is left ready, the other is in the handler.
    await waitFor(async () => (await queueCounts(broker, queue)).messages === 1, 5000, 'the first task to be taken');
    await new Promise((r) => setTimeout(r, 200));
    worker.child.kill('SIGTERM');
    assert.equal(await running.get(GET), 1200);
    assert.equal(await worker.exit, 0, worker.output());
    assert.match(worker.output(), /SIGTERM received/);
    // The finished task was acked (not requeued); the unstarted one is still queued for the next worker.
    assert.deepEqual(await queueCounts(broker, queue), { messages: 1, consumers: 0 });
    const left = await broker.channel.get(queue, { noAck: true });
    assert.ok(left);
    assert.equal(left.properties.headers?.['task'], 'tasks.add');
    assert.equal(left.properties.headers?.['id'], waiting.id);
    assert.equal(left.fields.redelivered, false, 'the unstarted message was never delivered to a handler');
  });

  test('a second signal exits at once; the running task is not acked and goes back to the queue', async () => {
    const queue = uniqueQueue('shutdown_force');
    queues.push(queue);
    const worker = await startWorkerProcess(queue);
    children.push(worker.child);
    await createClient(app).sleepMs.applyAsync([5000], {}, { queue });
    await waitFor(async () => (await queueCounts(broker, queue)).messages === 0, 5000, 'the task to be taken');
    worker.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const forcedAt = performance.now();
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exit, 1);
    assert.ok(performance.now() - forcedAt < 2000, 'forced exit did not wait for the task');
    await waitFor(async () => (await queueCounts(broker, queue)).messages === 1, 5000, 'the unacked task to be requeued');
  });
});
