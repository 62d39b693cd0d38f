/**
 * Time limits on the TS worker as Python reports them: past the decorator's
 * `time_limit=1` (or a per-call `time_limit`) the Python client sees FAILURE with
 * billiard's TimeLimitExceeded, and the worker keeps serving.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { breadthHandlers, pythonCalls, useBreadthPeers } from './support/breadth.js';
import { uniqueQueue } from './support/broker.js';
import { peerMissing } from './support/python.js';

const skip = peerMissing();

const sleepStarts: number[] = [];
const sleep = (seconds: number) => {
  sleepStarts.push(Date.now());
  // unref: a handler the worker gave up on must not keep the test process alive.
  return new Promise<number>((resolve) => setTimeout(() => resolve(seconds), seconds * 1000).unref());
};

describe('time limits: Python client → TS worker', { skip }, () => {
  const queue = uniqueQueue('breadth_time_limit');
  const handlers = breadthHandlers({
    sleepFor: sleep,
    tooSlow: sleep,
  });
  useBreadthPeers(handlers, { tsQueue: queue, worker: { concurrency: 4 } });

  test('decorator time_limit=1 and a per-call time_limit end in TimeLimitExceeded, a soft_time_limit in SoftTimeLimitExceeded; an in-limit task succeeds', async () => {
    sleepStarts.length = 0;
    const [decorated, perCall, soft, within] = await pythonCalls([
      { task: 'tasks.too_slow', args: [10], options: { queue } },
      { task: 'tasks.sleep_for', args: [10], options: { queue, time_limit: 0.5 } },
      { task: 'tasks.sleep_for', args: [10], options: { queue, soft_time_limit: 0.5 } },
      { task: 'tasks.too_slow', args: [0.1], options: { queue } },
    ]);
    // The answers came long before the 10 s sleeps (started by then) could finish (Python's
    // rpc client itself takes up to a second per result to notice replies).
    assert.ok(Date.now() - Math.min(...sleepStarts) < 8000, 'nobody waited for the 10 s sleeps');
    for (const outcome of [decorated, perCall]) {
      assert.ok(outcome && !outcome.ok);
      assert.equal(outcome.state, 'FAILURE');
      assert.equal(outcome.type, 'TimeLimitExceeded');
      assert.equal(outcome.module, 'billiard.exceptions');
    }
    assert.deepEqual(decorated && !decorated.ok && decorated.args, [1]);
    assert.ok(soft && !soft.ok);
    assert.equal(soft.type, 'SoftTimeLimitExceeded');
    assert.equal(soft.module, 'billiard.exceptions');
    assert.ok(within?.ok);
    assert.equal(within.value, 0.1);
  });
});
