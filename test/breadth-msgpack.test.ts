/**
 * msgpack both ways: the decorator's `serializer='msgpack'` makes the TS client publish
 * msgpack (checked on the wire) that a Python worker runs, and a Python client's msgpack
 * message runs on the TS worker; results come back as JSON (the result serializer).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Celery, type Worker } from 'celery-gen';
import { decodeMsgpack } from '../runtime/msgpack.js';
import { createClient, createWorker, type TaskHandlers } from '../fixtures/breadth/tasks.js';
import { pythonCalls, startBreadthWorker } from './support/breadth.js';
import { BROKER_URL, memoryLogger, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';
import { peerMissing, type PythonWorker } from './support/python.js';

const skip = peerMissing();
const VALUE = { text: 'héllo ✓ 🎉', int: 2 ** 40, neg: -7, float: 1.5, none: null, flag: true, list: [1, [2, 'x']], nested: { k: 'v' } };

describe('msgpack', { skip }, () => {
  const tsQueue = uniqueQueue('breadth_msgpack_ts');
  const pyQueue = uniqueQueue('breadth_msgpack_py');
  const peekQueue = uniqueQueue('breadth_msgpack_peek');
  const seen: unknown[] = [];
  const handlers: TaskHandlers = {
    add: (x, y) => x + y,
    mul: (x, y) => x * y,
    stamp: () => [Date.now() / 1000],
    sleepFor: (seconds) => seconds,
    fail: (message) => {
      throw new Error(message);
    },
    onError: (id) => `errback:${id}`,
    flaky: (ctx) => ctx.retries,
    echoPacked: (value) => {
      seen.push(value);
      return value;
    },
    prioritized: (tag) => tag,
    limited: () => [Date.now() / 1000],
    tooSlow: (seconds) => seconds,
  };
  let app: Celery;
  let worker: Worker;
  let python: PythonWorker;
  let broker: RawBroker;

  before(async () => {
    app = new Celery({ broker: BROKER_URL, logger: memoryLogger().logger });
    worker = createWorker(app, handlers, { queues: [tsQueue], handleSignals: false });
    await worker.start();
    python = await startBreadthWorker([pyQueue]);
    broker = await rawBroker();
  });

  after(async () => {
    await worker?.stop();
    await app?.close();
    await python?.stop();
    await broker?.close([tsQueue, pyQueue, peekQueue]);
  });

  test('the generated client publishes msgpack for a serializer="msgpack" task', async () => {
    const tasks = createClient(app);
    await tasks.echoPacked.applyAsync([VALUE], {}, { queue: peekQueue });
    let message: false | import('amqplib').GetMessage = false;
    await waitFor(async () => (message = await broker.channel.get(peekQueue, { noAck: true })) !== false, 5000, 'the message');
    const got = message as unknown as import('amqplib').GetMessage;
    assert.equal(got.properties.contentType, 'application/x-msgpack');
    assert.equal(got.properties.contentEncoding, 'binary');
    assert.deepEqual(decodeMsgpack(got.content), [[VALUE], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]);
  });

  test('an app-wide taskSerializer (Python task_serializer) makes every task msgpack; a Python worker runs it', async () => {
    const packed = new Celery({ broker: BROKER_URL, logger: memoryLogger().logger, taskSerializer: 'msgpack' });
    try {
      const tasks = createClient(packed);
      await tasks.add.applyAsync([2, 3], {}, { queue: peekQueue });
      let message: false | import('amqplib').GetMessage = false;
      await waitFor(async () => (message = await broker.channel.get(peekQueue, { noAck: true })) !== false, 5000, 'the message');
      assert.equal((message as unknown as import('amqplib').GetMessage).properties.contentType, 'application/x-msgpack');
      const result = await tasks.add.applyAsync([2, 3], {}, { queue: pyQueue });
      assert.equal(await result.get({ timeout: 10_000 }), 5);
    } finally {
      await packed.close();
    }
  });

  test('TS client → Python worker round trip', async () => {
    const tasks = createClient(app);
    const result = await tasks.echoPacked.applyAsync([VALUE], {}, { queue: pyQueue });
    assert.deepEqual(await result.get({ timeout: 10_000 }), VALUE);
  });

  test('Python client (msgpack by decorator) → TS worker round trip', async () => {
    seen.length = 0;
    const [outcome] = await pythonCalls([{ task: 'tasks.echo_packed', args: [VALUE], options: { queue: tsQueue } }]);
    assert.ok(outcome?.ok, JSON.stringify(outcome));
    assert.deepEqual(outcome.value, VALUE);
    assert.deepEqual(seen, [VALUE]);
  });
});
