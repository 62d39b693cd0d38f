/**
 * Remote control of a TS worker with Python's own CLI (`celery -A tasks inspect …`,
 * `celery control revoke`), over the `celery.pidbox` fanout exchange on RabbitMQ.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { breadthHandlers, celeryCli, pythonCalls, useBreadthPeers } from './support/breadth.js';
import { uniqueQueue, waitFor } from './support/broker.js';
import { peerMissing } from './support/python.js';

const skip = peerMissing();

describe('remote control: Python celery inspect/control → TS worker', { skip }, () => {
  const queue = uniqueQueue('breadth_control');
  const node = `cgts-${randomBytes(3).toString('hex')}@breadth`;
  const ran: string[] = [];
  let sleeping: (() => void) | undefined;
  const handlers = breadthHandlers({
    stamp: (tag) => {
      ran.push(tag);
      return [Date.now() / 1000];
    },
    sleepFor: (seconds) =>
      new Promise((resolve) => {
        sleeping = () => resolve(seconds);
        setTimeout(() => resolve(seconds), seconds * 1000);
      }),
  });
  useBreadthPeers(handlers, { tsQueue: queue, worker: { concurrency: 1, hostname: node } });

  test('`celery inspect ping` and `inspect registered` list the TS worker and its tasks', async () => {
    const ping = await celeryCli(['inspect', 'ping', '-d', node, '--json']);
    assert.equal(ping.code, 0, ping.stderr);
    assert.deepEqual(JSON.parse(ping.stdout), { [node]: { ok: 'pong' } });
    const registered = await celeryCli(['inspect', 'registered', '-d', node, '--json']);
    assert.equal(registered.code, 0, registered.stderr);
    const names = (JSON.parse(registered.stdout) as Record<string, string[]>)[node];
    assert.deepEqual(names, [
      'tasks.add',
      'tasks.echo_packed',
      'tasks.fail',
      'tasks.flaky',
      'tasks.limited',
      'tasks.mul',
      'tasks.on_error',
      'tasks.prioritized',
      'tasks.sleep_for',
      'tasks.stamp',
      'tasks.too_slow',
    ]);
    // Without -d every node answers; ours is among them.
    const all = await celeryCli(['inspect', 'ping']);
    assert.match(all.stdout, new RegExp(`${node}: OK`));
  });

  test('`inspect active` shows a running task; `inspect stats` reports the pool and totals', async () => {
    const calls = pythonCalls([{ task: 'tasks.sleep_for', args: [10], options: { queue } }]);
    await waitFor(() => sleeping !== undefined, 10_000, 'the sleep task to start');
    const active = await celeryCli(['inspect', 'active', '-d', node, '--json']);
    assert.equal(active.code, 0, active.stderr);
    const tasks = (JSON.parse(active.stdout) as Record<string, { name: string; args: string; hostname: string; acknowledged: boolean }[]>)[node]!;
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!.name, 'tasks.sleep_for');
    assert.equal(tasks[0]!.args, '[10]', 'argsrepr as the Python client wrote it (apply_async with a list)');
    assert.equal(tasks[0]!.hostname, node);
    sleeping!();
    const [outcome] = await calls;
    assert.ok(outcome?.ok);
    const stats = await celeryCli(['inspect', 'stats', '-d', node, '--json']);
    const mine = (JSON.parse(stats.stdout) as Record<string, { pool: Record<string, unknown>; total: Record<string, number>; prefetch_count: number }>)[node]!;
    assert.equal(mine.pool['max-concurrency'], 1);
    assert.equal(mine.total['tasks.sleep_for'], 1);
  });

  test('`celery control revoke <id>` stops a queued task: not run, and Python sees REVOKED', async () => {
    sleeping = undefined;
    ran.length = 0;
    // The worker (concurrency 1) is busy; the stamp task waits in the queue meanwhile.
    const id = `revoke-me-${randomBytes(4).toString('hex')}`;
    const calls = pythonCalls([
      { task: 'tasks.sleep_for', args: [10], options: { queue } },
      { task: 'tasks.stamp', args: ['revoked'], options: { queue, task_id: id } },
      { task: 'tasks.stamp', args: ['kept'], options: { queue } },
    ]);
    await waitFor(() => sleeping !== undefined, 10_000, 'the sleep task to start');
    const revoke = await celeryCli(['control', 'revoke', id]);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, new RegExp(`${node}: OK`));
    assert.match(revoke.stdout, new RegExp(`tasks ${id} flagged as revoked`));
    const revokedList = await celeryCli(['inspect', 'revoked', '-d', node, '--json']);
    assert.ok((JSON.parse(revokedList.stdout) as Record<string, string[]>)[node]!.includes(id));
    sleeping!();
    const [, revoked, kept] = await calls;
    assert.ok(revoked && !revoked.ok);
    assert.equal(revoked.state, 'REVOKED');
    assert.equal(revoked.type, 'TaskRevokedError');
    assert.ok(kept?.ok);
    assert.deepEqual(ran, ['kept'], 'the revoked task never ran');
  });

  test('`inspect scheduled` lists a held ETA task; revoking it answers REVOKED at once, not at its eta', async () => {
    ran.length = 0;
    const id = `eta-revoke-${randomBytes(4).toString('hex')}`;
    const started = Date.now();
    const calls = pythonCalls([{ task: 'tasks.stamp', args: ['held'], options: { queue, countdown: 60, task_id: id } }]);
    type Scheduled = Record<string, { eta: string; request: { id: string; name: string } }[]>;
    let entry: { eta: string; request: { id: string; name: string } } | undefined;
    await waitFor(
      async () => {
        const out = await celeryCli(['inspect', 'scheduled', '-d', node, '--json']);
        entry = (JSON.parse(out.stdout || '{}') as Scheduled)[node]?.find((e) => e.request.id === id);
        return entry !== undefined;
      },
      20_000,
      'the held task in inspect scheduled',
    );
    assert.equal(entry!.request.name, 'tasks.stamp');
    assert.ok(Date.parse(entry!.eta) - started > 50_000, `eta ${entry!.eta}`);
    const revoke = await celeryCli(['control', 'revoke', id]);
    assert.match(revoke.stdout, new RegExp(`tasks ${id} flagged as revoked`));
    const [outcome] = await calls;
    assert.ok(outcome && !outcome.ok);
    assert.equal(outcome.state, 'REVOKED');
    assert.ok(Date.now() - started < 40_000, 'answered long before its eta');
    assert.deepEqual(ran, []);
  });
});
