/**
 * msgpack both ways: the decorator's `serializer='msgpack'` makes the TS client publish
 * msgpack (checked on the wire) that a Python worker runs, and a Python client's msgpack
 * message runs on the TS worker; results come back as JSON (the result serializer).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Celery } from 'celery-gen';
import { decodeMsgpack } from '../runtime/protocol/msgpack.js';
import { createClient } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, pythonCalls, useBreadthPeers } from './support/breadth.js';
import { BROKER_URL, memoryLogger, uniqueQueue, waitFor } from './support/broker.js';
import { peerMissing } from './support/python.js';

const skip = peerMissing();
const VALUE = { text: 'héllo ✓ 🎉', int: 2 ** 40, neg: -7, float: 1.5, none: null, flag: true, list: [1, [2, 'x']], nested: { k: 'v' } };

describe('msgpack', { skip }, () => {
  const tsQueue = uniqueQueue('breadth_msgpack_ts');
  const pyQueue = uniqueQueue('breadth_msgpack_py');
  const peekQueue = uniqueQueue('breadth_msgpack_peek');
  const seen: unknown[] = [];
  const handlers = breadthHandlers({
    echoPacked: (value) => {
      seen.push(value);
      return value;
    },
  });
  const peers = useBreadthPeers(handlers, { tsQueue, pyQueue, extraQueues: [peekQueue] });

  test('the generated client publishes msgpack for a serializer="msgpack" task', async () => {
    const tasks = createClient(peers.app);
    await tasks.echoPacked.applyAsync([VALUE], {}, { queue: peekQueue });
    let message: false | import('amqplib').GetMessage = false;
    await waitFor(async () => (message = await peers.broker.channel.get(peekQueue, { noAck: true })) !== false, 5000, 'the message');
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
      await waitFor(async () => (message = await peers.broker.channel.get(peekQueue, { noAck: true })) !== false, 5000, 'the message');
      assert.equal((message as unknown as import('amqplib').GetMessage).properties.contentType, 'application/x-msgpack');
      const result = await tasks.add.applyAsync([2, 3], {}, { queue: pyQueue });
      assert.equal(await result.get({ timeout: 10_000 }), 5);
    } finally {
      await packed.close();
    }
  });

  test('TS client → Python worker round trip', async () => {
    const tasks = createClient(peers.app);
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
