/**
 * TS client → TS worker over the real RabbitMQ: concurrency, ack timing (late by default,
 * early with acks_late=false), error round trip, reply matching and stop() semantics.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Celery, CeleryGenError, ProtocolError, TaskError, chain, defineTask, implementTask, signature, silentLogger, step, type TaskImplementation } from 'celery-gen';
import { handlers } from '../fixtures/interop/handlers.js';
import { TASK_SPECS, createClient, createWorker } from '../fixtures/interop/tasks.js';
import { BROKER_URL, brokerMissing, queueCounts, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';

const GET = { timeout: 10_000 };

describe('TS client → TS worker', { skip: await brokerMissing() }, () => {
  let broker: RawBroker;
  const queues: string[] = [];
  const apps: Celery[] = [];
  const newApp = (queue: string) => {
    queues.push(queue);
    const app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger });
    apps.push(app);
    return app;
  };

  before(async () => {
    broker = await rawBroker();
  });

  after(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await broker.close(queues);
  });

  test('concurrency 4 runs four 300 ms tasks at once', async () => {
    const app = newApp(uniqueQueue('ts2ts_conc'));
    const worker = createWorker(app, handlers, { concurrency: 4, handleSignals: false });
    await worker.start();
    const tasks = createClient(app);
    await (await tasks.add.delay(0, 0)).get(GET); // warm: connection, reply queue, declarations
    const started = performance.now();
    const results = await Promise.all([0, 1, 2, 3].map(() => tasks.sleepMs.delay(300)));
    const values = await Promise.all(results.map((r) => r.get(GET)));
    const elapsed = performance.now() - started;
    assert.deepEqual(values, [300, 300, 300, 300]);
    assert.ok(elapsed < 600, `4 tasks of 300 ms took ${elapsed.toFixed(0)} ms with concurrency 4 (serial would be 1200)`);
    await worker.stop();
  });

  test('concurrency is a limit: never more handlers at once than configured', async () => {
    const app = newApp(uniqueQueue('ts2ts_limit'));
    let running = 0;
    let peak = 0;
    const spec = defineTask<[ms: number], { ms?: number }, number>({
      name: 'tasks.sleep_ms',
      bind: false,
      params: [{ name: 'ms', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } }],
      options: {},
    });
    const impl = implementTask(spec, async (ms: number) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return ms;
    });
    const worker = app.createWorker([impl], { concurrency: 2, handleSignals: false });
    await worker.start();
    const results = await Promise.all(Array.from({ length: 8 }, () => app.sendTask(spec.name, [50], {}, {}, spec)));
    await Promise.all(results.map((r) => r.get(GET)));
    assert.equal(peak, 2);
    await worker.stop();
  });

  test("a chain step without a queue of its own, continued by a TS worker, goes where the app's taskRoutes send it", async () => {
    const first = uniqueQueue('ts2ts_chain');
    const routed = uniqueQueue('ts2ts_routed');
    queues.push(first, routed);
    const app = new Celery({ broker: BROKER_URL, defaultQueue: first, logger: silentLogger, taskRoutes: { [TASK_SPECS.echoInt.name]: routed } });
    apps.push(app);
    // Declared, so the routed step has a queue to wait in: this worker consumes only `first`.
    await broker.channel.assertQueue(routed, { durable: true });
    const worker = createWorker(app, handlers, { queues: [first], handleSignals: false });
    await worker.start();
    await chain(signature(TASK_SPECS.add, [2, 3]), step(TASK_SPECS.echoInt, [])).applyAsync(app);
    await waitFor(async () => (await queueCounts(broker, routed)).messages === 1, 10_000, 'the echoInt step in the routed queue');
    await worker.stop();
  });

  test('one worker consumes several queues, within one concurrency limit', async () => {
    const first = uniqueQueue('ts2ts_q1');
    const second = uniqueQueue('ts2ts_q2');
    queues.push(second);
    const app = newApp(first);
    const worker = createWorker(app, handlers, { queues: [first, second], concurrency: 2, handleSignals: false });
    await worker.start();
    const tasks = createClient(app);
    const results = await Promise.all([
      tasks.add.applyAsync([1, 1], {}, { queue: first }),
      tasks.add.applyAsync([2, 2], {}, { queue: second }),
      tasks.echoStr.applyAsync(['two'], {}, { queue: second }),
    ]);
    assert.deepEqual(await Promise.all(results.map((r) => r.get(GET))), [2, 4, 'two']);
    await worker.stop();
  });

  test('a TS error reaches the TS client as TaskError with the class name and message', async () => {
    const app = newApp(uniqueQueue('ts2ts_err'));
    const worker = createWorker(app, handlers, { handleSignals: false });
    await worker.start();
    const error = await (await createClient(app).failCustom.delay()).get(GET).then(
      () => assert.fail('expected a TaskError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError);
    assert.equal(error.excType, 'MyError');
    assert.deepEqual(error.excMessage, ['custom failure from ts']);
    assert.match(error.traceback ?? '', /^Traceback \(most recent call last\):/);
    await worker.stop();
  });

  test('replies for unknown task ids and undecodable replies are ignored', async () => {
    const app = newApp(uniqueQueue('ts2ts_reply'));
    const worker = createWorker(app, handlers, { handleSignals: false });
    await worker.start();
    const tasks = createClient(app);
    const first = await tasks.add.delay(1, 2);
    assert.equal(await first.get(GET), 3);
    const replyTo = app.results.queue;
    const stranger = { task_id: randomUUID(), status: 'SUCCESS', result: 1, traceback: null, children: [] };
    broker.channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(stranger)), { contentType: 'application/json' });
    broker.channel.sendToQueue(replyTo, Buffer.from('{not json'), { contentType: 'application/json' });
    assert.equal(await (await tasks.add.delay(2, 2)).get(GET), 4);
    await worker.stop();
  });

  for (const acksLate of [true, false]) {
    test(`acks_late ${acksLate}: a worker lost mid-task ${acksLate ? 'leaves the message for redelivery' : 'has already acked it'}`, async () => {
      const queue = uniqueQueue(`ts2ts_ack_${acksLate}`);
      const client = newApp(queue);
      const workerApp = newApp(queue);
      const spec = defineTask<[], object, null>({ name: 'tasks.block', bind: false, params: [], options: { acks_late: acksLate } });
      let release: () => void = () => undefined;
      let started = false;
      const impl: TaskImplementation = implementTask(spec, () => {
        started = true;
        return new Promise<null>((resolve) => (release = () => resolve(null)));
      });
      const worker = workerApp.createWorker([impl], { handleSignals: false });
      await worker.start();
      await client.sendTask(spec.name, [], {}, {}, spec);
      await waitFor(() => started, 5000, 'the handler to start');
      // The connection dies under the running handler (no graceful stop).
      await workerApp.transport.close();
      release();
      await waitFor(async () => (await queueCounts(broker, queue)).consumers === 0, 5000, 'the consumer to go');
      assert.equal((await queueCounts(broker, queue)).messages, acksLate ? 1 : 0);
    });
  }

  test('a pending get() survives a dropped connection (the reply waits in the queue); the next call works too', async () => {
    const queue = uniqueQueue('ts2ts_drop');
    const client = newApp(queue);
    const workerApp = newApp(queue);
    const worker = createWorker(workerApp, handlers, { handleSignals: false });
    await worker.start();
    const tasks = createClient(client);
    const pending = await tasks.sleepMs.delay(300);
    const model = await client.transport.connect();
    (model.connection as unknown as { stream: { destroy(error: Error): void } }).stream.destroy(new Error('simulated network failure'));
    assert.equal(await pending.get(GET), 300);
    assert.equal(await (await tasks.add.delay(5, 6)).get(GET), 11);
    await worker.stop();
  });

  test('ignoreResult: the task runs, get() refuses to wait; msgpack travels, pickle is refused before publishing', async () => {
    const app = newApp(uniqueQueue('ts2ts_ignore'));
    const ran: number[] = [];
    const spec = defineTask<[x: number], { x?: number }, number>({
      name: 'tasks.note',
      bind: false,
      params: [{ name: 'x', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } }],
      options: {},
    });
    const worker = app.createWorker([implementTask(spec, (x: number) => ran.push(x))], { handleSignals: false });
    await worker.start();
    const result = await app.sendTask(spec.name, [7], {}, { ignoreResult: true }, spec);
    await assert.rejects(result.get(GET), (e: unknown) => e instanceof CeleryGenError && e.code === 'RESULT_IGNORED');
    await waitFor(() => ran.includes(7), 5000, 'the ignored-result task to run');
    const pickled = { ...spec, options: { serializer: 'pickle' } };
    await assert.rejects(app.sendTask(spec.name, [8], {}, {}, pickled), (e: unknown) => e instanceof ProtocolError);
    assert.equal(await (await app.sendTask(spec.name, [9], {}, {}, spec)).get(GET), 2);
    assert.equal(await (await app.sendTask(spec.name, [10], {}, { serializer: 'msgpack' }, spec)).get(GET), 3);
    assert.deepEqual(ran, [7, 9, 10]);
    await worker.stop();
  });

  test('a result JSON cannot carry is answered as an EncodeError FAILURE; undefined becomes null', async () => {
    const app = newApp(uniqueQueue('ts2ts_encode'));
    const cyclic = defineTask<[], object, unknown>({ name: 'tasks.cyclic', bind: false, params: [], options: {} });
    const nothing = defineTask<[], object, unknown>({ name: 'tasks.nothing', bind: false, params: [], options: {} });
    const worker = app.createWorker(
      [
        implementTask(cyclic, () => {
          const value: Record<string, unknown> = {};
          value['self'] = value;
          return value;
        }),
        implementTask(nothing, () => undefined),
      ],
      { handleSignals: false },
    );
    await worker.start();
    const error = await (await app.sendTask(cyclic.name, [], {}, {}, cyclic)).get(GET).then(
      () => assert.fail('expected a TaskError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError);
    assert.equal(error.excType, 'EncodeError');
    assert.equal(await (await app.sendTask(nothing.name, [], {}, {}, nothing)).get(GET), null);
    await worker.stop();
  });

  test('stop() lets a running task finish, answers it and acks it; nothing is redelivered', async () => {
    const queue = uniqueQueue('ts2ts_stop');
    const app = newApp(queue);
    const worker = createWorker(app, handlers, { handleSignals: false });
    await worker.start();
    const result = await createClient(app).sleepMs.delay(400);
    await new Promise((r) => setTimeout(r, 100));
    await worker.stop();
    assert.equal(await result.get(GET), 400);
    assert.deepEqual(await queueCounts(broker, queue), { messages: 0, consumers: 0 });
    await worker.stop(); // idempotent
  });
});
