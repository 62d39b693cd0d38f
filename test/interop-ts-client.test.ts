/**
 * TS client → real Python Celery worker: the generated client (fixtures/interop/tasks.ts)
 * calls every task of fixtures/interop/tasks.py on a private queue.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RpcAsyncResult, TaskError, TimeoutError, type TaskState } from 'celery-gen';
import { createClient, type TaskClients } from '../fixtures/interop/tasks.js';
import { uniqueQueue, waitFor } from './support/broker.js';
import { clientAndPythonWorker } from './support/client-peer.js';
import { interopSkip } from './support/python.js';

const skip = await interopSkip();
const GET = { timeout: 15_000 };

describe('TS client → Python worker', { skip }, () => {
  const queue = uniqueQueue('ts_client');
  // defaultQueue routes delay() to this file's queue, as Python's task_default_queue would.
  const peer = clientAndPythonWorker([queue], {}, { defaultQueue: queue });
  let tasks: TaskClients;
  before(() => {
    tasks = createClient(peer.app);
  });

  test('positional arguments: add.delay(2, 3) is 5', async () => {
    const result = await tasks.add.delay(2, 3);
    assert.match(result.id, /^[0-9a-f-]{36}$/);
    assert.equal(await result.get(GET), 5);
    assert.equal(result.state, 'SUCCESS');
  });

  test('keyword arguments, keyword-only ones and defaults', async () => {
    const [a, b, c] = await Promise.all([
      tasks.hello.applyAsync(['Ann'], { punctuation: '?' }),
      tasks.hello.applyAsync([], { name: 'Bob', greeting: 'Hi' }),
      tasks.hello.delay('Cy'),
    ]);
    assert.equal(await a.get(GET), 'Hello, Ann?');
    assert.equal(await b.get(GET), 'Hi, Bob!');
    assert.equal(await c.get(GET), 'Hello, Cy!');
    assert.deepEqual(await (await tasks.defaults.delay(1)).get(GET), [1, 2, 'c', null, true]);
    assert.deepEqual(await (await tasks.defaults.applyAsync([1, 5], { d: 4, e: false })).get(GET), [1, 5, 'c', 4, false]);
  });

  test('every JSON type travels as argument and result', async () => {
    const unicode = 'héllo ✓ 日本語 🎉';
    const nested = { a: [1, 2.5, 'x', null, true, { b: { c: [] } }], 'ключ': 'значение', empty: {} };
    assert.equal(await (await tasks.echoInt.delay(-(2 ** 40))).get(GET), -(2 ** 40));
    assert.equal(await (await tasks.echoFloat.delay(1.5)).get(GET), 1.5);
    assert.equal(await (await tasks.echoStr.delay(unicode)).get(GET), unicode);
    assert.equal(await (await tasks.echoBool.delay(false)).get(GET), false);
    assert.equal(await (await tasks.echoNone.delay(null)).get(GET), null);
    assert.deepEqual(await (await tasks.echoList.delay([3, 2, 1])).get(GET), [3, 2, 1]);
    assert.deepEqual(await (await tasks.echoDict.delay(nested)).get(GET), nested);
    const described = await (await tasks.describe.delay(7, 0.25, unicode, true, null, [1, 'two', [3]], nested)).get(GET);
    assert.deepEqual(described, {
      i: ['int', 7],
      f: ['float', 0.25],
      s: ['str', unicode],
      b: ['bool', true],
      n: ['NoneType', null],
      items: ['list', [1, 'two', [3]]],
      mapping: ['dict', nested],
    });
  });

  test('variadic *args and **kwargs', async () => {
    assert.deepEqual(await (await tasks.collect.delay(1, 2, 3)).get(GET), { args: [1, 2, 3], kwargs: {} });
    assert.deepEqual(await (await tasks.collect.applyAsync([4], { k: 'v' })).get(GET), { args: [4], kwargs: { k: 'v' } });
  });

  test('a Python ValueError arrives as TaskError with its type, message and traceback', async () => {
    const result = await tasks.failValue.delay();
    const error = await result.get(GET).then(
      () => assert.fail('expected a TaskError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError);
    assert.equal(error.excType, 'ValueError');
    assert.equal(error.excModule, 'builtins');
    assert.deepEqual(error.excMessage, ['bad value']);
    assert.equal(error.state, 'FAILURE');
    assert.equal(error.taskId, result.id);
    assert.match(error.traceback ?? '', /ValueError: bad value/);
    assert.equal(result.state, 'FAILURE');
  });

  test('a custom Python exception keeps its name, module and arguments', async () => {
    const error = await (await tasks.failCustom.delay()).get(GET).then(
      () => assert.fail('expected a TaskError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError);
    assert.equal(error.excType, 'CustomError');
    assert.equal(error.excModule, 'tasks');
    assert.deepEqual(error.excMessage, ['custom failure', 42]);
  });

  test('bind=True task and custom name=', async () => {
    const result = await tasks.whoami.delay('t1');
    assert.deepEqual(await result.get(GET), { id: result.id, retries: 0, tag: 't1', name: 'tasks.whoami' });
    assert.equal(tasks.customNamed.name, 'interop.custom_named');
    assert.equal(await (await tasks.customNamed.delay(4)).get(GET), 40);
  });

  test('STARTED is observable, and a result that arrived before get() is not lost', async () => {
    const result = await tasks.sleepMs.delay(300);
    assert.ok(result instanceof RpcAsyncResult);
    const seen: TaskState[] = [];
    result.onState((state) => seen.push(state));
    await waitFor(() => result.state === 'SUCCESS', 10_000, 'the SUCCESS reply, before anyone called get()');
    assert.deepEqual(result.states, ['STARTED', 'SUCCESS']);
    assert.equal(seen.at(-1), 'SUCCESS');
    assert.equal(await result.get(GET), 300);
  });

  test('get({timeout}) rejects with TimeoutError; the result still arrives later', async () => {
    const result = await tasks.sleepMs.delay(600);
    await assert.rejects(result.get({ timeout: 50 }), (e: unknown) => e instanceof TimeoutError && /did not finish within 50 ms/.test(e.message));
    assert.equal(await result.get(GET), 600);
  });

  test('an explicit taskId is used as the id', async () => {
    const taskId = '00000000-0000-4000-8000-000000000042';
    const result = await tasks.add.applyAsync([1, 1], {}, { taskId });
    assert.equal(result.id, taskId);
    assert.equal(await result.get(GET), 2);
  });

  test('sendTask by name reaches the Python task; an unknown name comes back as NotRegistered', async () => {
    assert.equal(await (await peer.app.sendTask('tasks.add', [20, 22])).get(GET), 42);
    const error = await (await peer.app.sendTask('tasks.not_there', [])).get(GET).then(
      () => assert.fail('expected NotRegistered'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError);
    assert.equal(error.excType, 'NotRegistered');
    assert.equal(error.excModule, 'celery.exceptions');
  });
});
