/**
 * The Redis broker transport against the real Redis (db 13, flushed around each test) and,
 * where a peer is named, a real Python Celery 5.2.6 worker or client on the same queues.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeTaskMessage, encodeTaskMessage } from '../runtime/protocol/message.js';
import { RedisResultBackend } from '../runtime/redis/backend.js';
import { RedisBroker, type RedisDelivery } from '../runtime/redis/broker.js';
import { parseRedisUrl, redactRedisSecrets, RedisTransportError } from '../runtime/redis/connection.js';
import { decodeEnvelope, encodeEnvelope, priorityStep, queueKeyForPriority, queueOfKey, restoredPayload } from '../runtime/redis/envelope.js';
import { envelopeFromTaskMessage, incomingFromEnvelope } from '../runtime/redis/messages.js';
import {
  flushTestDbs,
  rawRedis,
  REDIS_BACKEND_URL,
  REDIS_BROKER_DB,
  REDIS_BROKER_URL,
  REDIS_INTEROP_DIR,
  redisPeerMissing,
  runDriver,
  startPythonRedisWorker,
  type PythonOutcome,
  type PythonRedisWorker,
  uniqueQueue,
  waitUntil,
} from './support/redis.js';
import { publishTask, startMiniRunner } from './support/redis-runner.js';

const skip = redisPeerMissing();
/** Our connections' names, unique per run, so the reconnect test kills only ours. */
const CONNECTION_NAME = `cg-test-${process.pid}`;
const PEER = { broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL, visibilityTimeout: 3 };

interface EnvelopeFixture {
  messages: { list_key: string; raw: string }[];
  bindings: string[];
}
const fixture = JSON.parse(readFileSync(join(REDIS_INTEROP_DIR, 'python-envelopes.json'), 'utf8')) as EnvelopeFixture;

describe('Redis envelope (pure)', () => {
  test('re-encoding a Python-written envelope gives the same bytes', () => {
    for (const { raw } of fixture.messages) {
      const message = decodeEnvelope(raw);
      const again = encodeEnvelope(
        {
          body: message.body,
          contentType: message.contentType,
          contentEncoding: message.contentEncoding,
          headers: message.headers,
          correlationId: message.correlationId,
          replyTo: message.replyTo,
          deliveryMode: message.properties.delivery_mode as number,
          priority: message.priority,
        },
        { exchange: message.deliveryInfo.exchange, routingKey: message.deliveryInfo.routingKey },
        message.deliveryTag,
      );
      assert.equal(again, raw);
    }
  });

  test('a task encoded by protocol.ts and wrapped for Redis matches what Python LPUSHed, field by field', () => {
    const python = fixture.messages.find((m) => m.list_key.endsWith('\x06\x163'))!;
    const theirs = decodeEnvelope(python.raw);
    const request = decodeTaskMessage(incomingFromEnvelope(theirs));
    const ours = decodeEnvelope(
      encodeEnvelope(
        envelopeFromTaskMessage(
          encodeTaskMessage({ id: request.id, task: request.task, args: request.args, kwargs: request.kwargs, replyTo: theirs.replyTo!, origin: request.origin!, priority: 5 }),
        ),
        { exchange: '', routingKey: 'cg_probe' },
        theirs.deliveryTag,
      ),
    );
    assert.deepEqual(ours.headers, theirs.headers);
    assert.deepEqual(ours.properties, theirs.properties);
    assert.equal(ours.body.toString('utf8'), theirs.body.toString('utf8'));
    assert.equal(queueKeyForPriority('cg_probe', 5), python.list_key);
  });

  test('priority steps bucket down as kombu does, 0 on the bare list', () => {
    assert.deepEqual([0, 1, 2, 3, 5, 6, 8, 9, 12, -4].map((n) => priorityStep(Math.max(0, Math.min(9, n)))), [0, 0, 0, 3, 3, 6, 6, 9, 9, 0]);
    assert.equal(queueKeyForPriority('q', 0), 'q');
    assert.equal(queueKeyForPriority('q', 7), 'q\x06\x166');
    assert.equal(queueOfKey('q\x06\x169'), 'q');
    assert.equal(queueOfKey('plain'), 'plain');
  });

  test('a restored entry is marked redelivered in headers and delivery_info, as kombu marks it', () => {
    const raw = fixture.messages[0]!.raw;
    const { payload, exchange, routingKey } = restoredPayload(`[${raw}, "", "cg_probe"]`);
    const restored = decodeEnvelope(payload);
    assert.equal(restored.headers.redelivered, true);
    assert.equal(restored.deliveryInfo.redelivered, true);
    assert.equal(exchange, '');
    assert.equal(routingKey, 'cg_probe');
    assert.match(payload, /"ignore_result": false, "redelivered": true\}/);
  });

  test('URLs: passwords redacted everywhere, db and TLS options parsed, TLS parameters refused on redis://', () => {
    const endpoint = parseRedisUrl('redis://:s3cret@127.0.0.1:6380/5');
    assert.equal(endpoint.password, 's3cret');
    assert.equal(endpoint.db, 5);
    assert.equal(endpoint.port, 6380);
    assert.equal(endpoint.redacted, 'redis://:***@127.0.0.1:6380/5');
    assert.equal(redactRedisSecrets('cannot reach rediss://user:p%40ss@h:1/0 now'), 'cannot reach rediss://user:***@h:1/0 now');
    const tls = parseRedisUrl('rediss://:pw@redis.example:6390/2?ssl_cert_reqs=CERT_NONE');
    assert.equal(tls.tls?.rejectUnauthorized, false);
    assert.equal(tls.tls?.servername, 'redis.example');
    assert.equal(parseRedisUrl('rediss://h/0').tls?.servername, 'h');
    assert.throws(() => parseRedisUrl('redis://:pw@h/0?ssl_cert_reqs=CERT_NONE'), (e: unknown) => e instanceof RedisTransportError && /rediss:\/\//.test(e.message) && !e.message.includes('pw@'));
    assert.throws(() => parseRedisUrl('redis://:pw@h/notanumber'), (e: unknown) => e instanceof RedisTransportError && !e.message.includes(':pw@'));
  });
});

describe('Redis broker against the real Redis', { skip }, () => {
  let broker: RedisBroker;
  before(flushTestDbs);
  beforeEach(() => {
    broker = new RedisBroker({ url: REDIS_BROKER_URL, connectionName: CONNECTION_NAME });
  });
  afterEach(async () => {
    await broker.close();
    await flushTestDbs();
  });

  test('publish → consume parks the message in unacked/unacked_index; ack removes it', async () => {
    const queue = uniqueQueue('redis_broker');
    const id = await publishTask(broker, queue, 'redis_tasks.add', [2, 3]);
    const got: RedisDelivery[] = [];
    const consumer = broker.consume([queue], (d) => got.push(d));
    await waitUntil(() => got.length === 1, 5000, 'the delivery');
    const delivery = got[0]!;
    assert.equal(delivery.headers.id, id);
    assert.equal(delivery.queue, queue);
    const redis = broker.client;
    const entry = JSON.parse((await redis.hget('unacked', delivery.deliveryTag))!) as [unknown, string, string];
    assert.deepEqual(entry.slice(1), ['', queue]);
    assert.equal(JSON.stringify(entry[0]), JSON.stringify(JSON.parse(delivery.raw)));
    const score = Number(await redis.zscore('unacked_index', delivery.deliveryTag));
    assert.ok(Math.abs(score - Date.now() / 1000) < 5, `unacked_index score is a unix time in seconds (${score})`);
    assert.deepEqual(await redis.smembers(`_kombu.binding.${queue}`), [`${queue}\x06\x16\x06\x16${queue}`]);
    await delivery.ack();
    assert.equal(await redis.hexists('unacked', delivery.deliveryTag), 0);
    assert.equal(await redis.zscore('unacked_index', delivery.deliveryTag), null);
    await consumer.cancel();
  });

  test('prefetch bounds the messages in flight; an ack lets the next one in; setPrefetch widens it', async () => {
    const queue = uniqueQueue('redis_broker');
    for (let i = 0; i < 5; i++) await publishTask(broker, queue, 'redis_tasks.add', [i, i]);
    const got: RedisDelivery[] = [];
    const consumer = broker.consume([queue], (d) => got.push(d), { prefetch: 2 });
    await waitUntil(() => got.length === 2, 5000, 'two deliveries');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(got.length, 2, 'no third message while two are unacked');
    assert.equal(consumer.inFlight, 2);
    assert.equal((await parkedIn(broker, queue)).length, 2);
    assert.equal(await broker.size(queue), 3);
    await got[0]!.ack();
    await waitUntil(() => got.length === 3, 5000, 'the third delivery');
    // FIFO: LPUSH + BRPOP.
    assert.deepEqual(got.map((d) => (JSON.parse(d.body.toString()) as unknown[][])[0]), [[0, 0], [1, 1], [2, 2]]);
    // A worker holding ETA messages widens the window: more come in without any ack.
    consumer.setPrefetch(4);
    await waitUntil(() => got.length === 5, 5000, 'two more deliveries after widening the prefetch');
    assert.equal(consumer.inFlight, 4);
    for (const d of got.slice(1)) await d.ack();
    await consumer.cancel();
  });

  test('priorities: 0 is served first, then the 3, 6 and 9 steps', async () => {
    const queue = uniqueQueue('redis_broker');
    for (const priority of [9, 5, 0, 7]) await publishTask(broker, queue, 'redis_tasks.add', [priority, 0], {}, { priority });
    const got: number[] = [];
    const consumer = broker.consume([queue], (d) => {
      got.push(d.priority);
      void d.ack();
    });
    await waitUntil(() => got.length === 4, 5000, 'four deliveries');
    assert.deepEqual(got, [0, 5, 7, 9]);
    await consumer.cancel();
  });

  test('reject(requeue) puts the message back marked redelivered; reject() without requeue drops it', async () => {
    const queue = uniqueQueue('redis_broker');
    await publishTask(broker, queue, 'redis_tasks.add', [1, 1]);
    const got: RedisDelivery[] = [];
    const consumer = broker.consume([queue], (d) => got.push(d));
    await waitUntil(() => got.length === 1, 5000, 'first delivery');
    assert.equal(got[0]!.deliveryInfo.redelivered, false);
    await got[0]!.reject(true);
    await waitUntil(() => got.length === 2, 5000, 'the redelivery');
    assert.equal(got[1]!.deliveryInfo.redelivered, true);
    assert.equal(got[1]!.headers.redelivered, true);
    await assert.rejects(got[0]!.ack(), /already acked or rejected/);
    await got[1]!.reject(false);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(got.length, 2);
    assert.equal(await broker.size(queue), 0);
    assert.deepEqual(await parkedIn(broker, queue), []);
    await consumer.cancel();
  });

  test('a message left unacked past the visibility timeout is restored by the next consumer (under unacked_mutex)', async () => {
    const queue = uniqueQueue('redis_broker');
    await publishTask(broker, queue, 'redis_tasks.add', [4, 4]);
    const first: RedisDelivery[] = [];
    const gone = broker.consume([queue], (d) => first.push(d));
    await waitUntil(() => first.length === 1, 5000, 'the first delivery');
    await gone.cancel(); // a consumer that vanished without acking

    const rescuer = new RedisBroker({ url: REDIS_BROKER_URL, visibilityTimeout: 1, restoreInterval: 300 });
    try {
      // Someone else holds the mutex: nothing is restored, as in kombu.
      await broker.client.set('unacked_mutex', 'someone-else', 'EX', 300);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(await rescuer.restoreVisible(), 0);
      await broker.client.del('unacked_mutex');
      const second: RedisDelivery[] = [];
      const consumer = rescuer.consume([queue], (d) => second.push(d));
      await waitUntil(() => second.length === 1, 5000, 'the restored delivery');
      assert.equal(second[0]!.headers.id, first[0]!.headers.id);
      assert.equal(second[0]!.deliveryInfo.redelivered, true);
      await second[0]!.ack();
      assert.equal(await broker.client.exists('unacked_mutex'), 0, 'the mutex is released');
      await consumer.cancel();
    } finally {
      await rescuer.close();
    }
  });

  test('connections killed mid-flight: consuming resumes and the pending ack still lands', async () => {
    const queue = uniqueQueue('redis_broker');
    await publishTask(broker, queue, 'redis_tasks.add', [1, 2]);
    const got: RedisDelivery[] = [];
    const consumer = broker.consume([queue], (d) => got.push(d), { prefetch: 10 });
    await waitUntil(() => got.length === 1, 5000, 'first delivery');
    const admin = rawRedis(REDIS_BROKER_DB);
    try {
      const killed = await killOurConnections(admin);
      assert.ok(killed >= 2, `killed the consumer's and the command connection (${killed})`);
      await got[0]!.ack(); // queued by the client until it reconnects
      await publishTask(broker, queue, 'redis_tasks.add', [3, 4]);
      await waitUntil(() => got.length === 2, 10_000, 'a delivery after the reconnect');
      await got[1]!.ack();
      assert.deepEqual(await parkedIn(broker, queue), []);
    } finally {
      admin.disconnect();
      await consumer.cancel();
    }
  });

  test('a named exchange routes through _kombu.binding.*; an unroutable publish is an error', async () => {
    const queue = uniqueQueue('redis_broker');
    await broker.declareQueue(queue);
    const message = envelopeFromTaskMessage(encodeTaskMessage({ id: crypto.randomUUID(), task: 't', args: [], kwargs: {}, replyTo: '', origin: 'gen1@h' }));
    await broker.publish(message, { exchange: queue, routingKey: queue });
    assert.equal(await broker.size(queue), 1);
    await assert.rejects(broker.publish(message, { exchange: queue, routingKey: 'nobody' }), (e: unknown) => e instanceof RedisTransportError && e.code === 'UNROUTABLE');
  });
});

/**
 * Task ids parked in `unacked` for one queue. Counting only our (uniquely named) queue keeps
 * the tests right when another run shares the test database.
 */
async function parkedIn(broker: RedisBroker, queue: string): Promise<string[]> {
  const entries = await broker.client.hvals('unacked');
  return entries
    .map((entry) => JSON.parse(entry) as [{ headers: { id: string } }, string, string])
    .filter(([, , routingKey]) => routingKey === queue)
    .map(([payload]) => payload.headers.id);
}

/** CLIENT KILL every connection this test file's broker opened. */
async function killOurConnections(admin: ReturnType<typeof rawRedis>): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
    if (fields.db === String(REDIS_BROKER_DB) && fields.name?.startsWith(`${CONNECTION_NAME}-`)) {
      killed += Number(await admin.client('KILL', 'ID', fields.id!));
    }
  }
  return killed;
}

describe('Redis broker ↔ Python Celery 5.2.6 (Redis broker, Redis backend)', { skip }, () => {
  let broker: RedisBroker;
  let backend: RedisResultBackend;
  const workers: PythonRedisWorker[] = [];
  before(flushTestDbs);
  beforeEach(() => {
    broker = new RedisBroker({ url: REDIS_BROKER_URL, visibilityTimeout: 3, restoreInterval: 500 });
    backend = new RedisResultBackend({ url: REDIS_BACKEND_URL });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill();
    await broker.close();
    await backend.close();
  });
  after(flushTestDbs);

  test('TS publishes, a Python worker runs it: success and a readable failure in the Redis backend', async () => {
    const queue = uniqueQueue('redis_broker_py');
    workers.push(await startPythonRedisWorker(queue, PEER));
    const ok = await publishTask(broker, queue, 'redis_tasks.add', [2, 3]);
    const bad = await publishTask(broker, queue, 'redis_tasks.fail', ['no good']);
    const okMeta = await backend.waitForMeta(ok, { timeoutMs: 15_000 });
    assert.equal(okMeta.status, 'SUCCESS');
    assert.equal(okMeta.result, 5);
    const badMeta = await backend.waitForMeta(bad, { timeoutMs: 15_000 });
    assert.equal(badMeta.status, 'FAILURE');
    assert.deepEqual(badMeta.result, { exc_type: 'ValueError', exc_message: ['no good'], exc_module: 'builtins' });
    assert.match(badMeta.traceback ?? '', /ValueError: no good/);
  });

  test('Python publishes, TS consumes: Python get() returns the value and raises the TS failure', async () => {
    const queue = uniqueQueue('redis_broker_ts');
    const runner = startMiniRunner(broker, backend, [queue], {
      'redis_tasks.add': (args) => (args[0] as number) + (args[1] as number),
      'redis_tasks.fail': (args) => {
        throw new RangeError(String(args[0]));
      },
    });
    const outcomes = await runDriver<PythonOutcome[]>(
      {
        op: 'call',
        calls: [
          { task: 'redis_tasks.add', args: [20, 22], options: { queue } },
          { task: 'redis_tasks.fail', args: ['from ts'], options: { queue } },
        ],
      },
      PEER,
    );
    assert.deepEqual(outcomes[0], { ok: true, id: outcomes[0]!.id, value: 42 });
    const failure = outcomes[1]!;
    assert.equal(failure.ok, false);
    if (!failure.ok) {
      assert.equal(failure.type, 'RangeError');
      assert.equal(failure.message, 'from ts');
      assert.equal(failure.state, 'FAILURE');
    }
    assert.equal(runner.seen.length, 2);
    assert.equal(runner.seen[0]!.delivery.properties.body_encoding, 'base64');
    await runner.cancel();
    assert.deepEqual(await parkedIn(broker, queue), []);
  });

  test('a Python worker killed mid-task (acks_late): the TS consumer restores the task after the visibility timeout and runs it', async () => {
    const queue = uniqueQueue('redis_broker_kill_py');
    const dir = mkdtempSync(join(tmpdir(), 'cg-redis-'));
    try {
      const marker = join(dir, 'marker');
      const worker = await startPythonRedisWorker(queue, PEER);
      workers.push(worker);
      const id = await publishTask(broker, queue, 'redis_tasks.slow', [marker, 30]);
      await waitUntil(() => safeRead(marker).includes('started'), 15_000, 'the Python task to start');
      await worker.kill();
      assert.deepEqual(await parkedIn(broker, queue), [id], 'the killed worker left the task parked in unacked');
      const started = Date.now();
      const runner = startMiniRunner(broker, backend, [queue], { 'redis_tasks.slow': (args) => `ts ran ${String(args[1])}` });
      const meta = await backend.waitForMeta(id, { timeoutMs: 20_000 });
      assert.equal(meta.status, 'SUCCESS');
      assert.equal(meta.result, 'ts ran 30');
      assert.equal(runner.seen.length, 1);
      assert.equal(runner.seen[0]!.delivery.deliveryInfo.redelivered, true);
      assert.ok(Date.now() - started < 15_000);
      await runner.cancel();
      await waitUntil(async () => (await parkedIn(broker, queue)).length === 0, 5000, 'the ack');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a TS consumer killed mid-task: a Python worker restores the task after the visibility timeout and runs it', async () => {
    const queue = uniqueQueue('redis_broker_kill_ts');
    const id = await publishTask(broker, queue, 'redis_tasks.add', [7, 8]);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./support/redis-crash-consumer.ts', import.meta.url)), REDIS_BROKER_URL, queue], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitUntil(() => out.includes('taken'), 15_000, 'the TS consumer to take the task');
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    assert.deepEqual(await parkedIn(broker, queue), [id]);
    // Python restores on startup (and every ~100 s after): start it once the timeout has passed.
    await new Promise((r) => setTimeout(r, 3200));
    workers.push(await startPythonRedisWorker(queue, PEER));
    const meta = await backend.waitForMeta(id, { timeoutMs: 20_000 });
    assert.equal(meta.status, 'SUCCESS');
    assert.equal(meta.result, 15);
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}
