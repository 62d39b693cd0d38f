/**
 * ETA/countdown and expires, both ways: a TS worker holds an ETA message unacked (its
 * prefetch window grows, so a later task is not blocked) and runs it when due; an expired
 * task is not run and is REVOKED, as Python reports it. The same against a Python worker
 * from the TS client.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskError } from 'celery-gen';
import { createClient } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, pythonCalls, useBreadthPeers } from './support/breadth.js';
import { queueCounts, uniqueQueue, waitFor } from './support/broker.js';
import { peerMissing } from './support/python.js';

const skip = peerMissing();
const TOLERANCE_S = 0.75;

describe('ETA and expires', { skip }, () => {
  const tsQueue = uniqueQueue('breadth_eta_ts');
  const pyQueue = uniqueQueue('breadth_eta_py');
  const ran: string[] = [];
  const limitedRuns: number[] = [];
  const handlers = breadthHandlers({
    stamp: (tag) => {
      ran.push(tag);
      return [Date.now() / 1000];
    },
    limited: () => {
      limitedRuns.push(Date.now() / 1000);
      return [Date.now() / 1000];
    },
  });
  // Concurrency 1: a held ETA message must not take the only slot.
  const peers = useBreadthPeers(handlers, { tsQueue, pyQueue, worker: { concurrency: 1 } });

  test('Python countdown → TS worker: run after the countdown, without blocking a later task', async () => {
    ran.length = 0;
    const sent = Date.now() / 1000;
    const pending = pythonCalls([
      { task: 'tasks.stamp', args: ['late'], options: { queue: tsQueue, countdown: 2 } },
      { task: 'tasks.stamp', args: ['now'], options: { queue: tsQueue } },
    ]);
    // While the ETA message is held, the later one was delivered too (prefetch grew from 1).
    await waitFor(() => ran.includes('now'), 5_000, 'the later task to run while the ETA task waits');
    const counts = await queueCounts(peers.broker, tsQueue);
    assert.equal(counts.messages, 0, 'the held ETA message is unacked at the worker, not back in the queue');
    assert.ok(!ran.includes('late'));
    const [late, now] = await pending;
    assert.ok(late?.ok && now?.ok);
    const lateAt = (late.value as number[])[0]!;
    const nowAt = (now.value as number[])[0]!;
    // `sent` precedes the Python client's start, so it bounds the countdown from below; the
    // later task ran right after publishing, so it bounds the lateness from above.
    assert.ok(lateAt - sent >= 2 - 0.05, `ran ${lateAt - sent}s after sending, countdown was 2s`);
    assert.ok(lateAt - nowAt <= 2 + TOLERANCE_S, `ran ${lateAt - nowAt}s after the task published just after it`);
    assert.ok(nowAt < lateAt);
    assert.deepEqual(ran, ['now', 'late']);
  });

  test('Python expires → TS worker: an expired task is not run and Python sees REVOKED', async () => {
    ran.length = 0;
    const [expired, fine] = await pythonCalls([
      { task: 'tasks.stamp', args: ['expired'], options: { queue: tsQueue, countdown: 2, expires: 1 } },
      { task: 'tasks.stamp', args: ['fine'], options: { queue: tsQueue } },
    ]);
    assert.ok(expired && !expired.ok);
    assert.equal(expired.state, 'REVOKED');
    assert.equal(expired.type, 'TaskRevokedError');
    assert.ok(fine?.ok);
    assert.deepEqual(ran, ['fine']);
  });

  test("the decorator's rate_limit='4/s' spaces runs 0.25 s apart on the TS worker, without blocking other tasks", async () => {
    limitedRuns.length = 0;
    ran.length = 0;
    const outcomes = await pythonCalls([
      ...[1, 2, 3, 4].map((i) => ({ task: 'tasks.limited', args: [`l${i}`], options: { queue: tsQueue } })),
      { task: 'tasks.stamp', args: ['free'], options: { queue: tsQueue } },
    ]);
    assert.ok(outcomes.every((o) => o.ok));
    assert.equal(limitedRuns.length, 4);
    const gaps = limitedRuns.slice(1).map((t, i) => t - limitedRuns[i]!);
    assert.ok(gaps.every((g) => g >= 0.2), `gaps ${gaps.join(', ')}`);
    const freeAt = ((outcomes[4] as { value: number[] }).value)[0]!;
    assert.ok(freeAt < limitedRuns[3]!, 'the unlimited task did not wait behind the limited ones');
  });

  test('TS countdown → Python worker: honoured, and a later task is not blocked', async () => {
    const tasks = createClient(peers.app);
    const sent = Date.now() / 1000;
    const late = await tasks.stamp.applyAsync(['late'], {}, { queue: pyQueue, countdown: 2 });
    const now = await tasks.stamp.applyAsync(['now'], {}, { queue: pyQueue });
    const nowAt = (await now.get({ timeout: 10_000 }))[0]!;
    const lateAt = (await late.get({ timeout: 10_000 }))[0]!;
    assert.ok(nowAt < lateAt);
    assert.ok(lateAt - sent >= 2 - 0.05, `ran ${lateAt - sent}s after sending`);
    assert.ok(lateAt - sent <= 2 + TOLERANCE_S + 1, `ran ${lateAt - sent}s after sending`);
  });

  test('TS expires → Python worker: REVOKED arrives as a TaskError', async () => {
    const tasks = createClient(peers.app);
    const result = await tasks.stamp.applyAsync(['expired'], {}, { queue: pyQueue, countdown: 2, expires: 1 });
    await assert.rejects(result.get({ timeout: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof TaskError);
      assert.equal(error.state, 'REVOKED');
      assert.equal(error.excType, 'TaskRevokedError');
      return true;
    });
  });
});
