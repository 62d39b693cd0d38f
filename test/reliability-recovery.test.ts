/**
 * Recovery without disturbing the shared broker (issue 5): the runtime reaches RabbitMQ
 * through a TCP proxy this file owns, so "the broker goes away" is the proxy cutting its
 * sockets or refusing connections. Shown: capped, jittered backoff; mandatory publishing;
 * a publish during an outage waits for the reconnect, or rejects clearly after
 * publishTimeout; a worker whose connection dies mid-task drops that ack (never acks on
 * another channel), re-subscribes and runs the redelivered message; a pending get() survives
 * an outage (its reply waits in the queue), or fails clearly when the queue is gone;
 * connection events are observable; no password in any log line or error; amqps:// with CA,
 * client certificate and key against a real TLS listener.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Celery, CeleryGenError, TransportError, backoffDelay, currentTask, implementTask } from 'celery-gen';
import { createClient, TASK_SPECS } from '../fixtures/interop/tasks.js';
import { Transport } from '../runtime/amqp/transport.js';
import { BROKER_URL, brokerMissing, memoryLogger, queueCounts, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';
import { makeTlsMaterial, startBrokerProxy, type BrokerProxy, type TlsMaterial } from './support/reliability-proxy.js';

const GET = { timeout: 15_000 };
const FAST_RECONNECT = { initialDelay: 50, maxDelay: 400 };
/** The broker's password, which must never show up in a log line or an error (the user is also 'guest': look for `:guest@`). */
const PASSWORD_IN_URL = /:guest@/;

test('backoff is exponential, capped, and jittered within the upper half of its window', () => {
  const options = { initialDelay: 100, maxDelay: 2000, factor: 2 };
  assert.equal(backoffDelay(1, options, () => 0), 50);
  assert.equal(backoffDelay(1, options, () => 1), 100);
  assert.equal(backoffDelay(3, options, () => 1), 400);
  assert.equal(backoffDelay(30, options, () => 1), 2000);
  assert.equal(backoffDelay(30, options, () => 0), 1000);
  const samples = Array.from({ length: 200 }, () => backoffDelay(4, options));
  assert.ok(samples.every((d) => d >= 400 && d <= 800));
  assert.ok(new Set(samples).size > 50, 'jitter spreads reconnecting clients apart');
});

const skip = await brokerMissing();

describe('recovery through a proxy the test controls', { skip }, () => {
  let broker: RawBroker;
  let proxy: BrokerProxy;
  const queues: string[] = [];
  const apps: Celery[] = [];
  const proxiedUrl = () => `amqp://guest:guest@127.0.0.1:${proxy.port}//`;

  before(async () => {
    broker = await rawBroker();
    proxy = await startBrokerProxy();
  });

  after(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await proxy.close();
    await broker.close(queues);
  });

  const newApp = (options: ConstructorParameters<typeof Celery>[0]) => {
    const app = new Celery(options);
    apps.push(app);
    return app;
  };

  test('mandatory publishing: a message no queue takes rejects UNROUTABLE, the others on the same channel are confirmed', async () => {
    const transport = new Transport({ url: BROKER_URL, logger: memoryLogger().logger });
    const queue = uniqueQueue('relrec_mandatory');
    queues.push(queue);
    const channel = await transport.publishChannel();
    await transport.assertQueue(channel, queue);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        transport.publish(channel, '', i % 3 === 0 ? `${queue}_nobody` : queue, Buffer.from(String(i)), { mandatory: true, deliveryMode: 2, correlationId: `c${i}` }),
      ),
    );
    outcomes.forEach((outcome, i) => {
      if (i % 3 !== 0) assert.equal(outcome.status, 'fulfilled', `message ${i} was routable`);
      else {
        assert.equal(outcome.status, 'rejected');
        const error = (outcome as PromiseRejectedResult).reason as TransportError;
        assert.equal(error.code, 'UNROUTABLE');
        assert.match(error.message, /no queue took the message .*_nobody.*NO_ROUTE/);
      }
    });
    assert.equal((await queueCounts(broker, queue)).messages, 26);
    await transport.close();

    // Through the app: a task sent to an exchange nothing is bound to is an error, not a silent drop.
    const app = newApp({ broker: BROKER_URL, logger: memoryLogger().logger });
    await broker.channel.assertExchange('cg_test_relrec_unbound', 'direct', { durable: false, autoDelete: true });
    await assert.rejects(app.sendTask('tasks.add', [1, 2], {}, { exchange: 'cg_test_relrec_unbound', routingKey: 'nowhere' }), (e: unknown) => e instanceof TransportError && e.code === 'UNROUTABLE');
    await broker.channel.deleteExchange('cg_test_relrec_unbound');
  });

  test('a publish during an outage waits for the reconnect; events tell the story; no password anywhere', async () => {
    const queue = uniqueQueue('relrec_wait');
    queues.push(queue);
    const log = memoryLogger();
    const client = newApp({ broker: proxiedUrl(), defaultQueue: queue, logger: log.logger, reconnect: FAST_RECONNECT, publishTimeout: 20_000 });
    const worker = newApp({ broker: BROKER_URL, defaultQueue: queue, logger: memoryLogger().logger });
    const w = worker.createWorker([implementTask(TASK_SPECS.add, (x: number, y: number) => x + y)], { handleSignals: false });
    await w.start();
    const tasks = createClient(client);
    assert.equal(await (await tasks.add.delay(1, 1)).get(GET), 2);
    const events: string[] = [];
    client.transport.on('close', () => events.push('close'));
    client.transport.on('reconnecting', () => events.push('reconnecting'));
    client.transport.on('reconnect', () => events.push('reconnect'));
    client.transport.on('error', () => events.push('error'));

    await proxy.down();
    await waitFor(() => events.includes('close'), 5000, 'the client to notice the lost connection');
    const started = performance.now();
    const publishing = tasks.add.delay(20, 22);
    let settled = false;
    void publishing.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(settled, false, 'the publish waits while the broker is unreachable');
    assert.ok(events.filter((e) => e === 'reconnecting').length >= 2, `backoff attempts were made: ${events.join(',')}`);
    await proxy.resume();
    const result = await publishing;
    assert.ok(performance.now() - started >= 1500);
    assert.equal(await result.get(GET), 42);
    assert.ok(events.includes('reconnect'));
    const text = JSON.stringify(log.lines);
    assert.doesNotMatch(text, PASSWORD_IN_URL);
    assert.match(text, /reconnected to the broker/);
    await w.stop();
  });

  test('a publish rejects with PUBLISH_TIMEOUT (password-free) when the outage outlasts publishTimeout; the next one goes through', async () => {
    const queue = uniqueQueue('relrec_timeout');
    queues.push(queue);
    const log = memoryLogger();
    const client = newApp({ broker: proxiedUrl(), defaultQueue: queue, logger: log.logger, reconnect: FAST_RECONNECT, publishTimeout: 1000 });
    await client.sendTask('tasks.add', [1, 2]);
    await proxy.down();
    const error = await client.sendTask('tasks.add', [3, 4]).then(
      () => assert.fail('expected the publish to time out'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TransportError, String(error));
    assert.ok(['PUBLISH_TIMEOUT', 'DISCONNECTED'].includes(error.code), error.code);
    assert.match(error.message, /1000 ms/);
    assert.doesNotMatch(error.message + JSON.stringify(log.lines), PASSWORD_IN_URL);
    await proxy.resume();
    await client.sendTask('tasks.add', [5, 6]);
    assert.equal((await queueCounts(broker, queue)).messages, 2, 'the timed-out message was not sent; the others were');
  });

  test('a worker whose connection dies mid-task drops that ack, re-subscribes, and the redelivered message runs again', async () => {
    const queue = uniqueQueue('relrec_worker');
    queues.push(queue);
    const log = memoryLogger();
    const workerApp = newApp({ broker: proxiedUrl(), defaultQueue: queue, logger: log.logger, reconnect: FAST_RECONNECT });
    const client = newApp({ broker: BROKER_URL, defaultQueue: queue, logger: memoryLogger().logger });
    const runs: { id: string; redelivered: boolean }[] = [];
    let release: () => void = () => undefined;
    const w = workerApp.createWorker(
      [
        implementTask(TASK_SPECS.sleepMs, async (ms: number) => {
          const ctx = currentTask()!;
          runs.push({ id: ctx.id, redelivered: ctx.deliveryInfo.redelivered });
          if (runs.length === 1) await new Promise<void>((r) => (release = r));
          return ms;
        }),
      ],
      { handleSignals: false, concurrency: 2 },
    );
    await w.start();
    const result = await createClient(client).sleepMs.delay(7);
    await waitFor(() => runs.length === 1, 5000, 'the handler to start');
    proxy.cut();
    await waitFor(async () => (await queueCounts(broker, queue)).consumers === 0 || runs.length > 1, 5000, 'the broker to see the consumer go');
    release(); // finishes on a dead channel: no reply, no ack on any other channel
    assert.equal(await result.get(GET), 7);
    assert.equal(runs.length, 2);
    assert.equal(runs[1]!.id, runs[0]!.id);
    assert.equal(runs[1]!.redelivered, true);
    await waitFor(async () => (await queueCounts(broker, queue)).consumers === 1, 5000, 'the re-subscribed consumer');
    assert.equal((await queueCounts(broker, queue)).messages, 0);
    assert.ok(log.lines.some((l) => /not acking on a closed channel/.test(l.message)), 'the stale ack was dropped');
    assert.ok(log.lines.some((l) => /re-subscribed/.test(l.message)));
    assert.ok(!log.lines.some((l) => /unknown delivery tag|PRECONDITION_FAILED/.test(l.message)), 'never acked on another channel');
    // The worker keeps serving after the reconnect.
    assert.equal(await (await createClient(client).sleepMs.delay(3)).get(GET), 3);
    await w.stop();
  });

  test('a pending get() survives an outage: the reply sent meanwhile waits in the reply queue', async () => {
    const queue = uniqueQueue('relrec_get');
    queues.push(queue);
    const client = newApp({ broker: proxiedUrl(), defaultQueue: queue, logger: memoryLogger().logger, reconnect: FAST_RECONNECT });
    const workerApp = newApp({ broker: BROKER_URL, defaultQueue: queue, logger: memoryLogger().logger });
    const finished: string[] = [];
    const w = workerApp.createWorker(
      [
        implementTask(TASK_SPECS.sleepMs, async (ms: number) => {
          await new Promise((r) => setTimeout(r, ms));
          finished.push(currentTask()!.id);
          return ms;
        }),
      ],
      { handleSignals: false },
    );
    await w.start();
    const tasks = createClient(client);
    const pending = await tasks.sleepMs.delay(300);
    await proxy.down();
    // The worker answers while the client is disconnected.
    await waitFor(() => finished.includes(pending.id), 5000, 'the task to finish during the outage');
    await new Promise((r) => setTimeout(r, 200));
    await proxy.resume();
    // No timeout given: it must end by itself, with the reply that waited.
    assert.equal(await pending.get(), 300);
    assert.equal(await (await tasks.sleepMs.delay(5)).get(GET), 5);
    await w.stop();
  });

  test('a pending get() fails clearly (REPLY_QUEUE_LOST) when its reply queue is deleted; new calls get a new consumer', async () => {
    const queue = uniqueQueue('relrec_gone');
    queues.push(queue);
    const log = memoryLogger();
    const client = newApp({ broker: BROKER_URL, defaultQueue: queue, logger: log.logger, reconnect: FAST_RECONNECT });
    const workerApp = newApp({ broker: BROKER_URL, defaultQueue: queue, logger: memoryLogger().logger });
    const w = workerApp.createWorker([implementTask(TASK_SPECS.sleepMs, async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)))], { handleSignals: false });
    await w.start();
    const tasks = createClient(client);
    const pending = await tasks.sleepMs.delay(400);
    await broker.channel.deleteQueue(client.results.queue);
    await assert.rejects(pending.get(), (e: unknown) => e instanceof CeleryGenError && e.code === 'REPLY_QUEUE_LOST' && /transient/.test(e.message));
    assert.equal(await (await tasks.sleepMs.delay(5)).get(GET), 5);
    await w.stop();
  });
});

describe('amqps:// against a real TLS listener (client certificate required)', { skip }, () => {
  let material: TlsMaterial;
  let proxy: BrokerProxy | undefined;
  const queue = uniqueQueue('relrec_tls');
  const apps: Celery[] = [];

  before(async () => {
    material = makeTlsMaterial();
    proxy = await startBrokerProxy({ tls: material });
  });

  after(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await proxy?.close();
    const raw = await rawBroker();
    await raw.close([queue]);
  });

  test('with CA, certificate and key the client publishes and gets its result; without them it fails clearly', async () => {
    const url = `amqps://guest:guest@localhost:${proxy!.port}//`;
    const client = new Celery({ broker: url, defaultQueue: queue, logger: memoryLogger().logger, tls: { ca: material.ca, cert: material.clientCert, key: material.clientKey } });
    const workerApp = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: memoryLogger().logger });
    apps.push(client, workerApp);
    const w = workerApp.createWorker([implementTask(TASK_SPECS.add, (x: number, y: number) => x + y)], { handleSignals: false });
    await w.start();
    assert.equal(await (await createClient(client).add.delay(40, 2)).get(GET), 42);
    const before = proxy!.accepted;
    assert.ok(before >= 1, 'the client went through the TLS listener');

    for (const [tls, pattern] of [
      [{ cert: material.clientCert, key: material.clientKey }, /self[- ]signed|unable to (get|verify)|certificate/i],
      [{ ca: material.ca }, /certificate|handshake|socket hang up|ECONNRESET|closed/i],
    ] as const) {
      const log = memoryLogger();
      const bad = new Celery({ broker: url, defaultQueue: queue, logger: log.logger, tls });
      apps.push(bad);
      const error = await bad.sendTask('tasks.add', [1, 2]).then(
        () => assert.fail('expected a TLS failure'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TransportError, String(error));
      assert.equal(error.code, 'CONNECT_FAILED');
      assert.match(error.message, pattern);
      assert.match(error.message, /amqps:\/\/guest:\*\*\*@localhost/);
    }
    await w.stop();
  });
});
