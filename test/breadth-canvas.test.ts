/**
 * Canvas both ways: a Python-built chain continued by a TS worker (and handed back and
 * forth between the TS and the Python worker), a TS-built chain and group finishing on a
 * Python worker, link/link_error callbacks called by the TS worker, a failing chain step
 * failing the whole chain for Python's `get()`, and a chord refused on rpc:// as Python
 * refuses it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CeleryGenError, TaskError } from 'celery-gen';
import { applySignature, chain, chord, errback, group, immutable, signature, step } from '../runtime/client/canvas.js';
import { TASK_SPECS, createClient } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, pythonCalls, pythonChain, useBreadthPeers } from './support/breadth.js';
import { uniqueQueue, waitFor } from './support/broker.js';
import { peerMissing } from './support/python.js';

const skip = peerMissing();

describe('canvas', { skip }, () => {
  const tsQueue = uniqueQueue('breadth_canvas_ts');
  const pyQueue = uniqueQueue('breadth_canvas_py');
  const calls: string[] = [];
  const handlers = breadthHandlers({
    add: (x, y) => {
      calls.push(`add(${x}, ${y})`);
      return x + y;
    },
    mul: (x, y) => {
      calls.push(`mul(${x}, ${y})`);
      return x * y;
    },
    fail: (message) => {
      calls.push(`fail(${message})`);
      throw new RangeError(message);
    },
    onError: (id) => {
      calls.push(`on_error(${id})`);
      return `errback:${id}`;
    },
  });
  const peers = useBreadthPeers(handlers, { tsQueue, pyQueue, worker: { concurrency: 2 } });

  test('a Python-built chain finishes on the TS worker', async () => {
    calls.length = 0;
    const outcome = await pythonChain([
      { task: 'tasks.add', args: [1, 2], queue: tsQueue },
      { task: 'tasks.mul', args: [10], queue: tsQueue },
      { task: 'tasks.add', args: [5], queue: tsQueue },
    ]);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(outcome.value, 35);
    assert.deepEqual(calls, ['add(1, 2)', 'mul(3, 10)', 'add(30, 5)']);
  });

  test('a chain alternating between the TS and the Python worker, with an immutable step', async () => {
    calls.length = 0;
    const outcome = await pythonChain([
      { task: 'tasks.add', args: [1, 2], queue: tsQueue },
      { task: 'tasks.mul', args: [10], queue: pyQueue },
      { task: 'tasks.add', args: [5], queue: tsQueue },
      { task: 'tasks.mul', args: [2, 3], queue: tsQueue, immutable: true },
      { task: 'tasks.add', args: [100], queue: pyQueue },
    ]);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(outcome.value, 106);
    assert.deepEqual(calls, ['add(1, 2)', 'add(30, 5)', 'mul(2, 3)']);
  });

  test('a failing step fails the rest of a Python-built chain: Python get() raises instead of hanging', async () => {
    const outcome = await pythonChain(
      [
        { task: 'tasks.add', args: [1, 2], queue: tsQueue },
        { task: 'tasks.fail', args: ['chain step'], queue: tsQueue, immutable: true },
        { task: 'tasks.add', args: [5], queue: pyQueue },
      ],
      10,
    );
    assert.ok(!outcome.ok);
    assert.equal(outcome.state, 'FAILURE');
    assert.equal(outcome.type, 'RangeError');
  });

  test('link and link_error from Python: the TS worker calls the callback with the result and the errback with the failed id', async () => {
    calls.length = 0;
    const [ok, failed] = await pythonCalls([
      { task: 'tasks.add', args: [2, 3], options: { queue: tsQueue, link: { task: 'tasks.mul', args: [7], queue: tsQueue } } },
      { task: 'tasks.fail', args: ['boom'], options: { queue: tsQueue, link_error: { task: 'tasks.on_error', queue: tsQueue } } },
    ]);
    assert.ok(ok?.ok);
    assert.ok(failed && !failed.ok);
    await waitFor(() => calls.includes('mul(5, 7)') && calls.some((c) => c.startsWith('on_error(')), 10_000, 'the callback and the errback');
    assert.ok(calls.includes(`on_error(${failed.id})`));
  });

  test('a TS-built chain finishes on the Python worker; its type is the last step result', async () => {
    const result = await chain(
      signature(TASK_SPECS.add, [1, 2], {}, { queue: pyQueue }),
      step(TASK_SPECS.mul, [10], {}, { queue: pyQueue }),
      step(TASK_SPECS.add, [5], {}, { queue: pyQueue }),
    ).applyAsync(peers.app);
    const value: number = await result.get({ timeout: 15_000 });
    assert.equal(value, 35);
  });

  test('a TS-built chain across both workers, and a TS group on the Python worker', async () => {
    calls.length = 0;
    const result = await chain(signature(TASK_SPECS.add, [2, 2], {}, { queue: pyQueue }), step(TASK_SPECS.mul, [3], {}, { queue: tsQueue })).applyAsync(peers.app);
    assert.equal(await result.get({ timeout: 15_000 }), 12);
    assert.deepEqual(calls, ['mul(4, 3)']);
    const grouped = await group(signature(TASK_SPECS.add, [1, 1], {}, { queue: pyQueue }), signature(TASK_SPECS.mul, [3, 3], {}, { queue: pyQueue })).applyAsync(peers.app);
    const values: [number, number] = await grouped.get({ timeout: 15_000 });
    assert.deepEqual(values, [2, 9]);
  });

  test('link from the typed TS client: the Python worker calls a callback the TS worker runs', async () => {
    calls.length = 0;
    const tasks = createClient(peers.app);
    const result = await tasks.add.applyAsync([2, 3], {}, { queue: pyQueue, link: step(TASK_SPECS.mul, [7], {}, { queue: tsQueue }) });
    assert.equal(await result.get({ timeout: 15_000 }), 5);
    await waitFor(() => calls.includes('mul(5, 7)'), 10_000, 'the callback on the TS worker');
  });

  test('link_error from TS to the Python worker: the errback runs there with the failed id', async () => {
    const failing = await applySignature(peers.app, signature(TASK_SPECS.fail, ['nope'], {}, { queue: pyQueue }), {
      linkError: errback(TASK_SPECS.onError, [], {}, { queue: tsQueue }),
    });
    await assert.rejects(failing.get({ timeout: 15_000 }), (e: unknown) => e instanceof TaskError && e.excType === 'ValueError');
    await waitFor(() => calls.includes(`on_error(${failing.id})`), 10_000, 'the errback on the TS worker');
  });

  test('a chord needs a key-value result backend: refused on rpc://, as Python refuses it', async () => {
    await assert.rejects(
      chord([signature(TASK_SPECS.add, [1, 1])], immutable(TASK_SPECS.stamp, ['x'])).applyAsync(peers.app),
      (e: unknown) => e instanceof CeleryGenError && e.code === 'CHORD_UNSUPPORTED',
    );
  });
});
