/**
 * The Redis result backend against the real Redis (db 14 for results, db 13 for the
 * broker of the chord tests; both flushed) and a real Python Celery 5.2.6 client/worker.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { encodeJson } from '../runtime/protocol/kombu-json.js';
import { buildResultMeta, pythonUtcNow, RedisResultBackend, type RedisResultMeta } from '../runtime/redis/backend.js';
import { RedisBroker } from '../runtime/redis/broker.js';
import {
  flushTestDbs,
  rawRedis,
  REDIS_BACKEND_DB,
  REDIS_BACKEND_URL,
  REDIS_BROKER_URL,
  redisPeerMissing,
  runDriver,
  startPythonRedisWorker,
  type PythonOutcome,
  type PythonRedisWorker,
  uniqueQueue,
  waitUntil,
} from './support/redis.js';
import { startMiniRunner } from './support/redis-runner.js';

const skip = redisPeerMissing();
const PEER = { broker: REDIS_BROKER_URL, backend: REDIS_BACKEND_URL };
// Test vectors copied from ../shared/captures, so the suite runs without it.
const CAPTURES = new URL('../fixtures/messages/celery-5.2/', import.meta.url);

interface RedisCapture {
  task_id: string;
  value_raw: string;
  value_parsed: { date_done: string; traceback: string | null; result: unknown; status: string };
}

describe('Redis result meta (pure)', () => {
  test('date_done is naive UTC isoformat with microseconds, none when they are zero (Celery 5.2)', () => {
    assert.equal(pythonUtcNow(Date.UTC(2026, 10, 28, 18, 26, 38, 745) + 0.312), '2026-11-28T18:26:38.745312');
    assert.equal(pythonUtcNow(Date.UTC(2026, 10, 28, 18, 26, 38, 0)), '2026-11-28T18:26:38');
    assert.match(pythonUtcNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
  });

  test('the stored value is byte-identical to the captured 5.2.6 values (success and failure)', () => {
    for (const file of ['redis-backend-success.json', 'redis-backend-failure.json']) {
      const capture = JSON.parse(readFileSync(new URL(file, CAPTURES), 'utf8')) as RedisCapture;
      const parsed = capture.value_parsed;
      const ours = encodeJson(
        buildResultMeta(capture.task_id, { status: parsed.status, result: parsed.result, traceback: parsed.traceback }, parsed.date_done),
      );
      assert.equal(ours, capture.value_raw, file);
    }
  });

  test('group_id and parent_id sit between date_done and task_id, as _get_result_meta adds them; no date_done before READY', () => {
    const meta = buildResultMeta('t1', { status: 'STARTED', result: { pid: 1, hostname: 'h' }, groupId: 'g', parentId: 'p' }, 'x');
    assert.deepEqual(Object.keys(meta), ['status', 'result', 'traceback', 'children', 'date_done', 'group_id', 'parent_id', 'task_id']);
    assert.equal(meta.date_done, null);
  });
});

describe('Redis result backend ↔ Python Celery 5.2.6', { skip }, () => {
  let backend: RedisResultBackend;
  before(flushTestDbs);
  beforeEach(() => {
    backend = new RedisResultBackend({ url: REDIS_BACKEND_URL });
  });
  afterEach(async () => {
    await backend.close();
  });
  after(flushTestDbs);

  test('TS stores, Python AsyncResult.get() reads: value, and a ValueError raised with its message', async () => {
    const ok = crypto.randomUUID();
    const bad = crypto.randomUUID();
    const raw = rawRedis(REDIS_BACKEND_DB);
    const published: string[] = [];
    try {
      const sub = rawRedis(REDIS_BACKEND_DB);
      sub.on('message', (_channel: string, text: string) => published.push(text));
      await sub.subscribe(`celery-task-meta-${ok}`);
      assert.equal(await backend.store(ok, { status: 'SUCCESS', result: { n: [1, 2.5, 'é'] } }), true);
      await backend.store(bad, {
        status: 'FAILURE',
        result: { exc_type: 'ValueError', exc_message: ['bad input'], exc_module: 'builtins' },
        traceback: 'Traceback (most recent call last):\nValueError: bad input\n',
      });
      const stored = await raw.get(`celery-task-meta-${ok}`);
      await waitUntil(() => published.length === 1, 5000, 'the PUBLISH');
      assert.equal(published[0], stored, 'PUBLISHed on the key-named channel with the stored value');
      const ttl = await raw.ttl(`celery-task-meta-${ok}`);
      assert.ok(ttl > 86_390 && ttl <= 86_400, `expires in a day (${ttl})`);
      sub.disconnect();
    } finally {
      raw.disconnect();
    }
    const got = await runDriver<PythonOutcome>({ op: 'get', id: ok, timeout: 10 }, PEER);
    assert.deepEqual(got, { ok: true, id: ok, value: { n: [1, 2.5, 'é'] } });
    const failed = await runDriver<PythonOutcome>({ op: 'get', id: bad, timeout: 10 }, PEER);
    assert.equal(failed.ok, false);
    if (!failed.ok) {
      assert.equal(failed.type, 'ValueError');
      assert.equal(failed.module, 'builtins');
      assert.equal(failed.message, 'bad input');
      assert.equal(failed.traceback, 'Traceback (most recent call last):\nValueError: bad input\n');
    }
  });

  test('Python stores, TS reads: the same bytes as ours but for date_done; found by GET when stored before, by pub/sub when after', async () => {
    const before = crypto.randomUUID();
    await runDriver({ op: 'store', id: before, state: 'SUCCESS', value: [1, 'two', { three: 3.5 }] }, PEER);
    const early = await backend.waitForMeta(before, { timeoutMs: 5000 });
    assert.deepEqual(early.result, [1, 'two', { three: 3.5 }]);

    const raw = rawRedis(REDIS_BACKEND_DB);
    try {
      const theirs = (await raw.get(`celery-task-meta-${before}`))!;
      const mine = crypto.randomUUID();
      // Outside a worker Python stores `children: null` (no request); a worker stores [].
      await backend.store(mine, { status: 'SUCCESS', result: [1, 'two', { three: 3.5 }], children: null });
      const ours = (await raw.get(`celery-task-meta-${mine}`))!;
      const strip = (text: string, id: string) => text.replace(/"date_done": "[^"]*"/, '"date_done": "D"').replace(id, 'ID');
      assert.equal(strip(ours, mine), strip(theirs, before));
    } finally {
      raw.disconnect();
    }

    const later = crypto.randomUUID();
    const states: string[] = [];
    const waiting = backend.waitForMeta(later, { timeoutMs: 15_000, onState: (m) => states.push(m.status) });
    await new Promise((r) => setTimeout(r, 300));
    await runDriver({ op: 'store', id: later, state: 'STARTED', value: { pid: 1, hostname: 'py' } }, PEER);
    await runDriver({ op: 'store', id: later, state: 'FAILURE', exc: ['late failure'] }, PEER);
    const meta = await waiting;
    assert.equal(meta.status, 'FAILURE');
    assert.deepEqual(meta.result, { exc_type: 'ValueError', exc_message: ['late failure'], exc_module: 'builtins' });
    assert.deepEqual(states, ['STARTED', 'FAILURE']);
  });

  test('waiting does not poll: the command connection stays idle while the subscriber waits', async () => {
    const id = crypto.randomUUID();
    const name = `cg-nopoll-${id.slice(0, 8)}`;
    const own = new RedisResultBackend({ url: REDIS_BACKEND_URL, connectionName: name });
    const waiting = own.waitForMeta(id, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 2300));
    const admin = rawRedis(REDIS_BACKEND_DB);
    try {
      const clients = ((await admin.client('LIST')) as string).split('\n').filter((l) => l.includes(`name=${name}-results `));
      assert.equal(clients.length, 1);
      const idle = Number(/ idle=(\d+)/.exec(clients[0]!)![1]);
      assert.ok(idle >= 2, `the command connection was idle for ${idle}s while waiting`);
      await backend.store(id, { status: 'SUCCESS', result: 'done' });
      assert.equal((await waiting).result, 'done');
    } finally {
      admin.disconnect();
      await own.close();
    }
  });

  test('results stored by Celery 5.6.3 (aware date_done, typed JSON envelopes) are read as the 5.2 ones', async () => {
    const raw = rawRedis(REDIS_BACKEND_DB);
    try {
      const read = async (file: string) => {
        const capture = JSON.parse(readFileSync(new URL(`../celery-5.6/${file}`, CAPTURES), 'utf8')) as RedisCapture;
        await raw.set(`celery-task-meta-${capture.task_id}`, capture.value_raw);
        return backend.waitForMeta(capture.task_id, { timeoutMs: 5000 });
      };
      const ok = await read('redis-backend-success.json');
      assert.equal(ok.result, 5);
      assert.match(ok.date_done ?? '', /\+00:00$/);
      const rich = await read('redis-backend-success-rich-types.json');
      const values = rich.result as unknown[];
      assert.equal(values[0], '2024-05-06T07:08:09.123456+00:00');
      assert.equal(values[2], '2024-05-06');
      assert.equal(values[4], '3.14');
      assert.equal(values[5], '12345678-1234-5678-1234-567812345678');
      assert.ok(values.slice(6).every((v) => v instanceof Uint8Array), 'bytes arrive as Uint8Array');
      const failed = await read('redis-backend-failure.json');
      assert.equal(failed.status, 'FAILURE');
      assert.deepEqual(failed.result, { exc_type: 'ValueError', exc_message: ['bad value'], exc_module: 'builtins' });
    } finally {
      raw.disconnect();
    }
  });

  test('a stored SUCCESS is never overwritten (a redelivered task must not replace its result)', async () => {
    const id = crypto.randomUUID();
    assert.equal(await backend.store(id, { status: 'SUCCESS', result: 1 }), true);
    assert.equal(await backend.store(id, { status: 'FAILURE', result: { exc_type: 'X', exc_message: [], exc_module: null } }), false);
    assert.equal((await backend.getMeta(id))?.result, 1);
  });

  test('the subscriber connection killed while waiting: the result still arrives (read back after the reconnect)', async () => {
    const id = crypto.randomUUID();
    const name = `cg-resub-${id.slice(0, 8)}`;
    const own = new RedisResultBackend({ url: REDIS_BACKEND_URL, connectionName: name });
    const waiting = own.waitForMeta(id, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 200));
    const admin = rawRedis(REDIS_BACKEND_DB);
    try {
      const list = (await admin.client('LIST')) as string;
      const sub = list.split('\n').find((l) => l.includes(`name=${name}-results-sub `));
      assert.ok(sub, 'the subscriber connection exists');
      await admin.client('KILL', 'ID', /id=(\d+)/.exec(sub)![1]!);
      // Stored at once, probably while the subscriber is reconnecting: only the MGET catch-up can see it.
      await admin.set(`celery-task-meta-${id}`, encodeJson(buildResultMeta(id, { status: 'SUCCESS', result: 'survived' })));
      assert.equal((await waiting).result, 'survived');
    } finally {
      admin.disconnect();
      await own.close();
    }
  });

  test('group results: TS saves, Python restores; Python saves, TS restores', async () => {
    const gid = crypto.randomUUID();
    const children = [crypto.randomUUID(), crypto.randomUUID()];
    await backend.saveGroup(gid, children);
    assert.deepEqual(await runDriver({ op: 'restore_group', id: gid }, PEER), { children });
    const pyGid = crypto.randomUUID();
    await runDriver({ op: 'save_group', id: pyGid, children }, PEER);
    assert.deepEqual(await backend.restoreGroup(pyGid), children);
    const metas = backend.waitForAll(children, { timeoutMs: 5000 });
    await backend.store(children[1]!, { status: 'SUCCESS', result: 2 });
    await backend.store(children[0]!, { status: 'SUCCESS', result: 1 });
    assert.deepEqual((await metas).map((m: RedisResultMeta) => m.result), [1, 2]);
  });
});

describe('Native Redis chords across Python and TS (Redis broker, Redis backend)', { skip }, () => {
  let broker: RedisBroker;
  let backend: RedisResultBackend;
  const workers: PythonRedisWorker[] = [];
  before(flushTestDbs);
  beforeEach(() => {
    broker = new RedisBroker({ url: REDIS_BROKER_URL });
    backend = new RedisResultBackend({ url: REDIS_BACKEND_URL });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill();
    await broker.close();
    await backend.close();
  });
  after(flushTestDbs);

  const add = (args: unknown[]): number => (args[0] as number) + (args[1] as number);
  const tsum = (args: unknown[]): number => (args[0] as number[]).reduce((a, b) => a + b, 0);

  test('header on the TS side, callback on a Python worker', async () => {
    const tsQueue = uniqueQueue('redis_chord_ts');
    const pyQueue = uniqueQueue('redis_chord_py');
    workers.push(await startPythonRedisWorker(pyQueue, PEER));
    const runner = startMiniRunner(broker, backend, [tsQueue], { 'redis_tasks.add': add }, { prefetch: 4 });
    const outcome = await runDriver<PythonOutcome>(
      {
        op: 'chord',
        header: [1, 2, 3].map((n) => ({ task: 'redis_tasks.add', args: [n, n * 10], options: { queue: tsQueue } })),
        body: { task: 'redis_tasks.tsum', options: { queue: pyQueue } },
        timeout: 20,
      },
      PEER,
    );
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (outcome.ok) assert.equal(outcome.value, 66);
    assert.deepEqual([...runner.chordOutcomes].sort(), ['sent', 'waiting', 'waiting']);
    const raw = rawRedis(REDIS_BACKEND_DB);
    try {
      assert.deepEqual(await raw.keys(`celery-taskset-meta-${outcome.group}*`), [], 'the .j/.t/.s keys are gone');
    } finally {
      raw.disconnect();
    }
    await runner.cancel();
  });

  test('header on a Python worker, callback on the TS side', async () => {
    const tsQueue = uniqueQueue('redis_chord_ts');
    const pyQueue = uniqueQueue('redis_chord_py');
    workers.push(await startPythonRedisWorker(pyQueue, PEER));
    const runner = startMiniRunner(broker, backend, [tsQueue], { 'redis_tasks.tsum': tsum });
    const outcome = await runDriver<PythonOutcome>(
      {
        op: 'chord',
        header: [4, 5].map((n) => ({ task: 'redis_tasks.add', args: [n, n], options: { queue: pyQueue } })),
        body: { task: 'redis_tasks.tsum', options: { queue: tsQueue } },
        timeout: 20,
      },
      PEER,
    );
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (outcome.ok) assert.equal(outcome.value, 18);
    assert.equal(runner.seen.length, 1);
    assert.deepEqual(runner.seen[0]!.request.args, [[8, 10]]);
    await runner.cancel();
  });

  test('a failing header task on the TS side fails the chord: Python get() raises ChordError naming it', async () => {
    const tsQueue = uniqueQueue('redis_chord_ts');
    const runner = startMiniRunner(broker, backend, [tsQueue], {
      'redis_tasks.add': add,
      'redis_tasks.fail': (args) => {
        throw new Error(String(args[0]));
      },
    });
    const outcome = await runDriver<PythonOutcome>(
      {
        op: 'chord',
        header: [
          { task: 'redis_tasks.add', args: [1, 1], options: { queue: tsQueue } },
          { task: 'redis_tasks.fail', args: ['header broke'], options: { queue: tsQueue } },
        ],
        body: { task: 'redis_tasks.tsum', options: { queue: uniqueQueue('redis_chord_nobody') } },
        timeout: 20,
      },
      PEER,
    );
    // get() on the chord result re-raises the failed parent (the header task) first, as Python does.
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.message, 'header broke');
    const callback = await runDriver<PythonOutcome>({ op: 'get', id: outcome.id, timeout: 10 }, PEER);
    assert.equal(callback.ok, false);
    if (!callback.ok) {
      assert.equal(callback.type, 'ChordError');
      assert.equal(callback.module, 'celery.exceptions');
      assert.match(callback.message, /^Dependency [0-9a-f-]{36} raised Error\('header broke'\)$/);
    }
    await runner.cancel();
  });
});
