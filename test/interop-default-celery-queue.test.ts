/**
 * The one test that uses the shared default queue `celery`: with no routing options both
 * sides meet there, and each declares it the way the other does (durable, no arguments),
 * whichever declares first. A mismatch would be a 406 PRECONDITION_FAILED on the second
 * declaration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Celery, silentLogger } from 'celery-gen';
import { handlers } from '../fixtures/interop/handlers.js';
import { createClient, createWorker } from '../fixtures/interop/tasks.js';
import { BROKER_URL, queueCounts, rawBroker, type RawBroker } from './support/broker.js';
import { interopSkip, runPythonClient, startPythonWorker } from './support/python.js';

const QUEUE = 'celery';
const GET = { timeout: 15_000 };

describe('the default `celery` queue, shared with Python', { skip: await interopSkip() }, () => {
  let broker: RawBroker;

  async function deleteCeleryQueue(): Promise<void> {
    const channel = await broker.connection.createChannel();
    channel.on('error', () => undefined);
    await channel.deleteQueue(QUEUE);
    await channel.close();
  }

  before(async () => {
    broker = await rawBroker();
    const counts = await queueCounts(broker, QUEUE).catch(() => ({ messages: 0, consumers: 0 }));
    // Another consumer would take the messages this file sends: fail with the reason rather
    // than pass without proving anything.
    if (counts.consumers > 0) throw new Error(`queue ${QUEUE} has ${counts.consumers} consumer(s) outside this test: stop them (a local Celery worker?) and run again`);
    await deleteCeleryQueue();
  });

  after(async () => {
    await deleteCeleryQueue();
    await broker.close();
  });

  test('TS client declares `celery` first, then the Python worker declares and serves it', async () => {
    const app = new Celery({ broker: BROKER_URL, logger: silentLogger });
    try {
      const result = await createClient(app).add.delay(2, 3);
      const worker = await startPythonWorker(QUEUE);
      try {
        assert.equal(await result.get(GET), 5);
        assert.doesNotMatch(worker.logs(), /PRECONDITION_FAILED|inequivalent arg/);
      } finally {
        await worker.stop();
      }
    } finally {
      await app.close();
    }
  });

  test('the Python worker declares `celery` first; our client declares it again without a 406', async () => {
    await deleteCeleryQueue();
    const worker = await startPythonWorker(QUEUE);
    const app = new Celery({ broker: BROKER_URL, logger: silentLogger });
    try {
      assert.equal(await (await createClient(app).hello.delay('default')).get(GET), 'Hello, default!');
    } finally {
      await app.close();
      await worker.stop();
    }
  });

  test('a TS worker with default options serves a Python client on `celery`', async () => {
    const app = new Celery({ broker: BROKER_URL, logger: silentLogger });
    const worker = createWorker(app, handlers, { handleSignals: false });
    try {
      await worker.start();
      const [outcome] = await runPythonClient(QUEUE, [{ task: 'tasks.add', args: [40, 2] }]);
      assert.ok(outcome?.ok);
      assert.equal(outcome.value, 42);
      assert.equal((await queueCounts(broker, QUEUE)).messages, 0);
    } finally {
      await app.close();
    }
  });
});
