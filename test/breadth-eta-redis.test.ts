/**
 * ETA and expiry on a TS worker over the Redis broker (rpc:// results through Redis, as
 * Python allows): a held ETA message widens the Redis consumer's prefetch bound as it does
 * AMQP's basic.qos, so a later task is not blocked; an expired task is REVOKED.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Celery, type Worker } from 'celery-gen';
import { createWorker } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, pythonCalls } from './support/breadth.js';
import { memoryLogger } from './support/broker.js';
import { holdRedisTestLock, REDIS_BROKER_URL, redisPeerMissing, uniqueQueue } from './support/redis.js';

const skip = redisPeerMissing();

describe('ETA and expires over the Redis broker: Python client → TS worker', { skip }, () => {
  const queue = uniqueQueue('breadth_eta_redis');
  const ran: string[] = [];
  const handlers = breadthHandlers({
    stamp: (tag) => {
      ran.push(tag);
      return [Date.now() / 1000];
    },
  });
  let app: Celery;
  let worker: Worker;

  before(async () => {
    // Other runs' Redis test files FLUSHDB the test databases; wait for them.
    await holdRedisTestLock();
    app = new Celery({ broker: REDIS_BROKER_URL, backend: 'rpc://', logger: memoryLogger().logger });
    worker = createWorker(app, handlers, { queues: [queue], concurrency: 1, handleSignals: false });
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    await app?.close();
  });

  test('countdown honoured without blocking a later task; an expired task is REVOKED and not run', async () => {
    const [late, now, expired] = await pythonCalls(
      [
        { task: 'tasks.stamp', args: ['late'], options: { queue, countdown: 2 } },
        { task: 'tasks.stamp', args: ['now'], options: { queue } },
        { task: 'tasks.stamp', args: ['expired'], options: { queue, countdown: 2, expires: 1 } },
      ],
      REDIS_BROKER_URL,
    );
    assert.ok(late?.ok && now?.ok, JSON.stringify([late, now]));
    const lateAt = (late.value as number[])[0]!;
    const nowAt = (now.value as number[])[0]!;
    assert.ok(lateAt - nowAt >= 1.5 && lateAt - nowAt <= 2.75, `late ran ${lateAt - nowAt}s after now`);
    assert.ok(expired && !expired.ok);
    assert.equal(expired.state, 'REVOKED');
    assert.deepEqual(ran, ['now', 'late']);
  });
});
