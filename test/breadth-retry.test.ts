/**
 * Retries both ways: a TS handler's `ctx.retry()` republishes with retries+1 (RETRY
 * reported, max_retries from the Python decorator, final FAILURE with the last exception,
 * all seen by a Python client); a Python task that retries is awaited by the TS client.
 * No `expires` here: Celery 5.2's own retry drops messages that carry one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskError, type RpcAsyncResult } from 'celery-gen';
import { createClient } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, pythonCalls, useBreadthPeers } from './support/breadth.js';
import { uniqueQueue } from './support/broker.js';
import { peerMissing } from './support/python.js';

const skip = peerMissing();

class RuntimeError extends Error {
  override name = 'RuntimeError';
}

describe('retries', { skip }, () => {
  const tsQueue = uniqueQueue('breadth_retry_ts');
  const pyQueue = uniqueQueue('breadth_retry_py');
  const attempts: { id: string; retries: number; app: unknown }[] = [];
  const handlers = breadthHandlers({
    flaky: (ctx, succeedOn) => {
      attempts.push({ id: ctx.id, retries: ctx.retries, app: ctx.app });
      if (ctx.retries < succeedOn) ctx.retry({ exc: new RuntimeError(`attempt ${ctx.retries}`), countdown: 0.2 });
      return ctx.retries;
    },
  });
  const peers = useBreadthPeers(handlers, { tsQueue, pyQueue, worker: { concurrency: 2 } });

  test('Python client → TS worker: retries counted, success after one retry, FAILURE after max_retries=2', async () => {
    attempts.length = 0;
    const [once, exhausted] = await pythonCalls([
      { task: 'tasks.flaky', args: [1], options: { queue: tsQueue } },
      { task: 'tasks.flaky', args: [5], options: { queue: tsQueue } },
    ]);
    assert.ok(once?.ok, JSON.stringify(once));
    assert.equal(once.value, 1);
    assert.ok(exhausted && !exhausted.ok);
    assert.equal(exhausted.state, 'FAILURE');
    assert.equal(exhausted.type, 'RuntimeError');
    assert.equal(exhausted.module, 'builtins');
    assert.equal(exhausted.message, 'attempt 2');
    // Same task id on every attempt, retries 0, 1, 2 (the decorator's max_retries=2).
    const runs = attempts.filter((a) => a.id === exhausted.id).map((a) => a.retries);
    assert.deepEqual(runs, [0, 1, 2]);
    assert.deepEqual(attempts.filter((a) => a.id === once.id).map((a) => a.retries), [0, 1]);
    assert.ok(attempts.every((a) => a.app === peers.app), 'the context carries the app');
  });

  test('TS client → Python worker: a retrying Python task is awaited through RETRY to its result', async () => {
    const tasks = createClient(peers.app);
    const once = (await tasks.flaky.applyAsync([1], {}, { queue: pyQueue })) as RpcAsyncResult<number>;
    assert.equal(await once.get({ timeout: 15_000 }), 1);
    assert.ok(once.states.includes('RETRY'), `states seen: ${once.states.join(', ')}`);
    const exhausted = (await tasks.flaky.applyAsync([5], {}, { queue: pyQueue })) as RpcAsyncResult<number>;
    await assert.rejects(exhausted.get({ timeout: 15_000 }), (error: unknown) => {
      assert.ok(error instanceof TaskError);
      assert.equal(error.excType, 'RuntimeError');
      assert.deepEqual(error.excMessage, ['attempt 2']);
      return true;
    });
    assert.equal(exhausted.states.filter((s) => s === 'RETRY').length, 2);
  });
});
