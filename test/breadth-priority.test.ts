/**
 * Priority on a queue declared with `x-max-priority` 10 by both sides alike (RabbitMQ
 * answers a different redeclaration with 406), and per-task routing from the decorator's
 * `queue=`: the generated client sends `prioritized` there by default. Messages queued
 * while no worker runs are served highest priority first, by a Python worker (TS client)
 * and by a TS worker (Python client).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Celery, type Worker } from 'celery-gen';
import { createClient, createWorker } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, pythonCalls, startBreadthWorker } from './support/breadth.js';
import { BROKER_URL, memoryLogger, queueCounts, rawBroker, waitFor, type RawBroker } from './support/broker.js';
import { peerMissing, type PythonWorker } from './support/python.js';

const skip = peerMissing();
// The decorator's queue (fixtures/breadth/tasks.py); only this file uses it.
const QUEUE = 'cg_test_breadth_priority';

describe('priority and per-task queue', { skip }, () => {
  const order: string[] = [];
  const handlers = breadthHandlers({
    prioritized: (tag) => {
      order.push(tag);
      return tag;
    },
  });
  const options = { queueArguments: { [QUEUE]: { 'x-max-priority': 10 } } };
  let app: Celery;
  let broker: RawBroker;
  let python: PythonWorker | undefined;
  let worker: Worker | undefined;

  before(async () => {
    broker = await rawBroker();
    await broker.channel.deleteQueue(QUEUE).catch(() => undefined);
    app = new Celery({ broker: BROKER_URL, logger: memoryLogger().logger, ...options });
  });

  after(async () => {
    await worker?.stop();
    await python?.stop();
    await app?.close();
    await broker?.close([QUEUE]);
  });

  test('TS client → Python worker: the decorator routes to the priority queue; highest priority runs first', async () => {
    const tasks = createClient(app);
    const results = [];
    for (const [tag, priority] of [['low', 1], ['high', 9], ['mid', 5]] as const) {
      results.push(await tasks.prioritized.applyAsync([tag], {}, { priority }));
    }
    assert.equal((await queueCounts(broker, QUEUE)).messages, 3, 'routed by the decorator queue');
    const finished: string[] = [];
    for (const r of results) r.get().then((tag) => finished.push(tag), () => undefined);
    python = await startBreadthWorker([QUEUE]);
    await Promise.all(results.map((r) => r.get({ timeout: 15_000 })));
    assert.deepEqual(finished, ['high', 'mid', 'low']);
    await python.stop();
    python = undefined;
  });

  test('Python client → TS worker on the same queue (declared alike): highest priority runs first', async () => {
    order.length = 0;
    // The Python worker of the first test is stopped right after the last result arrived,
    // and on this machine its last message was seen coming back to the queue (its ack had
    // not reached the broker when the worker exited). Only this test's three must count.
    await broker.channel.purgeQueue(QUEUE);
    const pending = pythonCalls([
      { task: 'tasks.prioritized', args: ['low'], options: { priority: 1 } },
      { task: 'tasks.prioritized', args: ['high'], options: { priority: 9 } },
      { task: 'tasks.prioritized', args: ['mid'], options: { priority: 5 } },
    ]);
    await waitFor(async () => (await queueCounts(broker, QUEUE)).messages === 3, 10_000, 'the three queued messages');
    worker = createWorker(app, handlers, { queues: [QUEUE], concurrency: 1, handleSignals: false });
    await worker.start();
    const outcomes = await pending;
    assert.ok(outcomes.every((o) => o.ok));
    assert.deepEqual(order, ['high', 'mid', 'low']);
  });
});
