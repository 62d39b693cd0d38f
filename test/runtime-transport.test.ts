/**
 * The transport and app lifecycle against the real RabbitMQ: secrets never reach errors or
 * logs, queues are declared once per channel, close is ordered and idempotent, a lost
 * connection is reported and replaced on next use, a refused publish rejects; plus the
 * async-local task context.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Channel } from 'amqplib';
import { Celery, CeleryGenError, TransportError, currentTask, defineTask, implementTask, redactUrl, silentLogger, type TaskContext } from 'celery-gen';
import { Transport } from '../runtime/amqp/transport.js';
import { BROKER_URL, brokerMissing, memoryLogger, rawBroker, uniqueQueue } from './support/broker.js';

const queues: string[] = [];

after(async () => {
  if (queues.length === 0) return;
  const broker = await rawBroker();
  await broker.close(queues);
});

const skip = await brokerMissing();

describe('URL redaction', () => {
  test('passwords become *** and nothing else changes', () => {
    assert.equal(redactUrl('amqp://guest:s3cret@127.0.0.1:5672//'), 'amqp://guest:***@127.0.0.1:5672//');
    assert.equal(redactUrl('amqps://user:p%40ss@broker.example:5671/vhost'), 'amqps://user:***@broker.example:5671/vhost');
    assert.equal(redactUrl('amqp://127.0.0.1:5672//'), 'amqp://127.0.0.1:5672//');
    assert.equal(redactUrl('not a url but amqp://u:pw@h'), 'not a url but amqp://u:***@h');
  });

  test('a refused login and an unreachable broker fail with TransportError, password-free, in errors and logs', { skip }, async () => {
    for (const broker of ['amqp://guest:wrong-s3cret@127.0.0.1:5672//', 'amqp://guest:wrong-s3cret@127.0.0.1:1//']) {
      const log = memoryLogger();
      const app = new Celery({ broker, logger: log.logger });
      const error = await app.sendTask('tasks.add', [1, 2]).then(
        () => assert.fail('expected a connection failure'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TransportError, String(error));
      assert.equal(error.code, 'CONNECT_FAILED');
      assert.match(error.message, /guest:\*\*\*@127\.0\.0\.1/);
      assert.doesNotMatch(error.message, /s3cret/);
      assert.doesNotMatch(JSON.stringify(log.lines), /s3cret/);
      await app.close();
    }
  });
});

describe('app construction', () => {
  test('unsupported brokers and backends are refused at construction with a clear error', () => {
    assert.throws(() => new Celery({ broker: 'ftp://x:y@host' }), (e: unknown) => e instanceof CeleryGenError && e.code === 'UNSUPPORTED_BROKER' && !e.message.includes(':y@'));
    assert.throws(() => new Celery({ backend: 'db+postgresql://u:pw@h/db' }), (e: unknown) => e instanceof CeleryGenError && e.code === 'UNSUPPORTED_BACKEND');
    assert.throws(() => new Celery({ broker: 'not a url' }), (e: unknown) => e instanceof CeleryGenError && e.code === 'BAD_BROKER_URL');
  });

  test('construction does not connect; close() without use is fine and idempotent', async () => {
    const app = new Celery({ broker: 'amqp://guest:guest@127.0.0.1:1//', logger: silentLogger });
    const first = app.close();
    assert.equal(app.close(), first);
    await first;
    assert.throws(() => app.transport, (e: unknown) => e instanceof CeleryGenError && e.code === 'CLOSED');
  });
});

describe('transport', { skip }, () => {
  test('a queue is declared once per channel lifetime, however many publishes ask', async () => {
    const transport = new Transport({ url: BROKER_URL, logger: silentLogger });
    const queue = uniqueQueue('transport_declare');
    queues.push(queue);
    const channel = await transport.publishChannel();
    let declares = 0;
    const original = channel.assertQueue.bind(channel);
    (channel as Channel).assertQueue = (...args: Parameters<Channel['assertQueue']>) => {
      declares++;
      return original(...args);
    };
    await Promise.all(Array.from({ length: 20 }, () => transport.assertQueue(channel, queue)));
    await transport.assertQueue(channel, queue);
    for (let i = 0; i < 5; i++) await transport.publish(channel, '', queue, Buffer.from('x'), { deliveryMode: 2 });
    assert.equal(declares, 1);
    await transport.close();
  });

  test('close() closes channels then the connection, once; afterwards nothing reconnects', async () => {
    const transport = new Transport({ url: BROKER_URL, logger: silentLogger });
    const channel = await transport.createChannel();
    const closed: string[] = [];
    channel.on('close', () => closed.push('channel'));
    (await transport.connect()).on('close', () => closed.push('connection'));
    const first = transport.close();
    assert.equal(transport.close(), first);
    await first;
    assert.deepEqual(closed, ['channel', 'connection']);
    await assert.rejects(transport.connect(), (e: unknown) => e instanceof TransportError && e.code === 'CLOSED');
  });

  test('a lost connection is reported as close and replaced on next use', async () => {
    const transport = new Transport({ url: BROKER_URL, logger: silentLogger });
    const model = await transport.connect();
    const lost = new Promise<unknown>((resolve) => transport.once('close', resolve));
    const errors: unknown[] = [];
    transport.on('error', (e) => errors.push(e));
    (model.connection as unknown as { stream: { destroy(error: Error): void } }).stream.destroy(new Error('simulated network failure'));
    await lost;
    const again = await transport.connect();
    assert.notEqual(again, model);
    const queue = uniqueQueue('transport_again');
    queues.push(queue);
    const channel = await transport.publishChannel();
    await transport.assertQueue(channel, queue);
    await transport.publish(channel, '', queue, Buffer.from('after reconnect'), { deliveryMode: 2 });
    await transport.close();
  });

  test('a publish the broker refuses rejects; the next publish gets a fresh channel', async () => {
    const transport = new Transport({ url: BROKER_URL, logger: silentLogger });
    const channel = await transport.publishChannel();
    await assert.rejects(
      transport.publish(channel, 'cg_no_such_exchange', 'x', Buffer.from('x'), {}),
      (e: unknown) => e instanceof TransportError,
    );
    const fresh = await transport.publishChannel();
    assert.notEqual(fresh, channel);
    const queue = uniqueQueue('transport_fresh');
    queues.push(queue);
    await transport.assertQueue(fresh, queue);
    await transport.publish(fresh, '', queue, Buffer.from('ok'), {});
    await transport.close();
  });
});

describe('client', { skip }, () => {
  test('a queue the broker refuses to declare rejects that call only; the next publish gets a new channel', async () => {
    const queue = uniqueQueue('client_after_refusal');
    queues.push(queue);
    const app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger });
    await assert.rejects(app.sendTask('tasks.x', [], {}, { queue: 'amq.reserved_by_rabbitmq' }), (e: unknown) => e instanceof TransportError && e.code === 'DECLARE_FAILED');
    const result = await app.sendTask('tasks.x', [1]);
    assert.match(result.id, /^[0-9a-f-]{36}$/);
    await app.close();
  });
});

describe('task context', { skip }, () => {
  test('currentTask() is the running task inside a handler, across awaits, and undefined outside', async () => {
    const queue = uniqueQueue('context');
    queues.push(queue);
    const app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger });
    const spec = defineTask<[], object, string>({ name: 'tasks.ctx', bind: false, params: [], options: {} });
    const seen: (TaskContext | undefined)[] = [];
    const worker = app.createWorker(
      [
        implementTask(spec, async () => {
          seen.push(currentTask());
          await new Promise((r) => setTimeout(r, 10));
          seen.push(currentTask());
          return 'ok';
        }),
      ],
      { handleSignals: false },
    );
    await worker.start();
    const result = await app.sendTask(spec.name, [], {}, {}, spec);
    assert.equal(await result.get({ timeout: 10_000 }), 'ok');
    assert.equal(seen.length, 2);
    assert.equal(seen[0]?.id, result.id);
    assert.equal(seen[1]?.id, result.id);
    assert.equal(seen[0]?.name, 'tasks.ctx');
    assert.equal(seen[0]?.deliveryInfo.routingKey, queue);
    assert.equal(currentTask(), undefined);
    await app.close();
  });
});
