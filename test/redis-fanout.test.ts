/**
 * Fanout over the Redis broker, where Celery uses it: remote control (`celery.pidbox`, a
 * fanout exchange kombu maps to PUBLISH/PSUBSCRIBE on `/<db>.celery.pidbox`, replies on
 * the direct exchange `reply.celery.pidbox`). Shown both ways with Python Celery 5.2.6:
 * Python's `inspect().ping()` answered by a TS node, and a TS broadcast answered by a
 * Python worker.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { encodeJson } from '../runtime/protocol/kombu-json.js';
import { RedisBroker } from '../runtime/redis/broker.js';
import {
  flushTestDbs,
  REDIS_BACKEND_URL,
  REDIS_BROKER_DB,
  REDIS_BROKER_URL,
  redisPeerMissing,
  runDriver,
  startPythonRedisWorker,
  type PythonRedisWorker,
  uniqueQueue,
  waitUntil,
} from './support/redis.js';

const skip = redisPeerMissing();
const PEER = { broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL };

interface PidboxRequest {
  method: string;
  destination: string[] | null;
  ticket?: string;
  reply_to?: { exchange: string; routing_key: string };
}

const json = (value: unknown) => ({ body: Buffer.from(encodeJson(value)), contentType: 'application/json', contentEncoding: 'utf-8' });

describe('Redis fanout (remote control) ↔ Python Celery 5.2.6', { skip }, () => {
  let broker: RedisBroker;
  const workers: PythonRedisWorker[] = [];
  before(async () => {
    await flushTestDbs();
    broker = new RedisBroker({ url: REDIS_BROKER_URL, connectionName: `cg-fanout-${process.pid}` });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill();
  });
  after(async () => {
    await broker.close();
    await flushTestDbs();
  });

  test('Python inspect().ping() is broadcast on /<db>.celery.pidbox and a TS node answers it', async () => {
    const node = `cg-ts-${randomUUID().slice(0, 8)}@test`;
    const seen: PidboxRequest[] = [];
    const subscription = await broker.subscribeFanout('celery.pidbox', '', (message) => {
      const request = JSON.parse(message.body.toString('utf8')) as PidboxRequest;
      seen.push(request);
      if (request.method !== 'ping' || !request.reply_to || (request.destination && !request.destination.includes(node))) return;
      // As kombu's Node.reply: the direct reply exchange, routed by the caller's oid, the ticket in the headers.
      void broker.publish(
        { ...json({ [node]: { ok: 'pong' } }), headers: { ticket: request.ticket, clock: 1 }, deliveryMode: 1 },
        { exchange: request.reply_to.exchange, routingKey: request.reply_to.routing_key },
      );
    });
    try {
      assert.equal(subscription.channel, `/${REDIS_BROKER_DB}.celery.pidbox`);
      const replies = await runDriver<Record<string, unknown>>({ op: 'inspect_ping', timeout: 2 }, PEER);
      assert.deepEqual(replies[node], { ok: 'pong' });
      assert.equal(seen[0]?.method, 'ping');
    } finally {
      await subscription.close();
    }
  });

  test('a TS broadcast ping reaches a Python worker, whose pong comes back on the TS reply list', async () => {
    const queue = uniqueQueue('redis_fanout');
    workers.push(await startPythonRedisWorker(queue, PEER));
    const oid = randomUUID();
    const replyQueue = `${oid}.reply.celery.pidbox`;
    await broker.bindQueue(replyQueue, 'reply.celery.pidbox', oid);
    const replies: { ticket: unknown; body: Record<string, unknown> }[] = [];
    const consumer = broker.consume(
      [replyQueue],
      (delivery) => replies.push({ ticket: delivery.headers.ticket, body: JSON.parse(delivery.body.toString('utf8')) as Record<string, unknown> }),
      { noAck: true, declare: false },
    );
    try {
      const ticket = randomUUID();
      const ping = () =>
        broker.publishFanout(
          {
            ...json({ method: 'ping', arguments: {}, destination: null, pattern: null, matcher: null, ticket, reply_to: { exchange: 'reply.celery.pidbox', routing_key: oid } }),
            headers: { clock: 1, expires: Date.now() / 1000 + 10 },
          },
          'celery.pidbox',
        );
      // The worker logs `ready.` before its event loop has sent PSUBSCRIBE: a PUBLISH reaches
      // only current subscribers (as in kombu), so broadcast until one is listening.
      await waitUntil(async () => (await ping()) >= 1, 10_000, 'a subscriber on the pidbox channel');
      const worker = `${queue}@`;
      await waitUntil(() => replies.some((r) => Object.keys(r.body).some((k) => k.startsWith(worker))), 10_000, 'the Python worker to answer');
      const answer = replies.find((r) => Object.keys(r.body).some((k) => k.startsWith(worker)))!;
      assert.equal(answer.ticket, ticket);
      assert.deepEqual(Object.values(answer.body), [{ ok: 'pong' }]);
    } finally {
      await consumer.cancel();
      await broker.unbindQueue(replyQueue, 'reply.celery.pidbox', oid);
      await broker.deleteQueue(replyQueue);
    }
  });
});
