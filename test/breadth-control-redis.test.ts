/**
 * The same remote-control commands over the Redis broker (kombu's fanout on
 * `/<db>.celery.pidbox`), answered by the same code as on AMQP (runtime/observability/control.ts):
 * Python's `inspect().ping()`, `celery inspect registered` and `celery control revoke`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Celery, type Worker } from 'celery-gen';
import { createWorker } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, celeryCli } from './support/breadth.js';
import { memoryLogger } from './support/broker.js';
import { holdRedisTestLock, REDIS_BACKEND_URL, REDIS_BROKER_URL, redisPeerMissing, runDriver, uniqueQueue } from './support/redis.js';

const skip = redisPeerMissing();

describe('remote control over the Redis broker: Python → TS worker', { skip }, () => {
  const queue = uniqueQueue('breadth_control_redis');
  const node = `cgrd-${randomBytes(3).toString('hex')}@breadth`;
  const handlers = breadthHandlers();
  let app: Celery;
  let worker: Worker;

  before(async () => {
    // Other runs' Redis test files FLUSHDB the test databases; wait for them.
    await holdRedisTestLock();
    app = new Celery({ broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL, logger: memoryLogger().logger });
    worker = createWorker(app, handlers, { queues: [queue], hostname: node, handleSignals: false });
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    await app?.close();
  });

  test('inspect ping / registered and control revoke reach the TS worker through Redis fanout', async () => {
    const replies = await runDriver<Record<string, unknown>>({ op: 'inspect_ping', timeout: 2 }, { broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL });
    assert.deepEqual(replies[node], { ok: 'pong' });
    const registered = await celeryCli(['inspect', 'registered', '-d', node, '--json'], REDIS_BROKER_URL);
    assert.equal(registered.code, 0, registered.stderr);
    assert.ok((JSON.parse(registered.stdout) as Record<string, string[]>)[node]!.includes('tasks.flaky'));
    const revoke = await celeryCli(['control', 'revoke', 'some-task-id', '-d', node], REDIS_BROKER_URL);
    assert.match(revoke.stdout, /tasks some-task-id flagged as revoked/);
    const revoked = await celeryCli(['inspect', 'revoked', '-d', node, '--json'], REDIS_BROKER_URL);
    assert.deepEqual((JSON.parse(revoked.stdout) as Record<string, string[]>)[node], ['some-task-id']);
  });
});
