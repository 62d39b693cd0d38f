/**
 * Real Python Celery client → TS worker: Python's `apply_async(...).get()` against the
 * generated createWorker() with handlers implementing TaskHandlers; bad input (unknown
 * task, wrong arguments, malformed raw messages) leaves the worker running.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ConsumeMessage } from 'amqplib';
import { Celery, type Worker } from 'celery-gen';
import { handlers } from '../fixtures/interop/handlers.js';
import { createWorker } from '../fixtures/interop/tasks.js';
import { BROKER_URL, memoryLogger, queueCounts, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';
import { interopSkip, runPythonClient } from './support/python.js';

const skip = await interopSkip();

describe('Python client → TS worker', { skip }, () => {
  const queue = uniqueQueue('ts_worker');
  const log = memoryLogger();
  let app: Celery;
  let worker: Worker;
  let broker: RawBroker;

  before(async () => {
    app = new Celery({ broker: BROKER_URL, logger: log.logger });
    worker = createWorker(app, handlers, { queues: [queue], concurrency: 4, handleSignals: false });
    await worker.start();
    broker = await rawBroker();
  });

  after(async () => {
    try {
      await worker?.stop();
      await app?.close();
    } finally {
      await (broker ?? (await rawBroker())).close([queue]);
    }
  });

  test('Python get() returns what the TS handlers return, for every argument form and JSON type', async () => {
    const unicode = 'héllo ✓ 日本語 🎉';
    const nested = { a: [1, 2.5, 'x', null, true, { b: { c: [] } }], 'ключ': 'значение' };
    const outcomes = await runPythonClient(queue, [
      { task: 'tasks.add', args: [2, 3] },
      { task: 'tasks.hello', args: ['Ann'], kwargs: { punctuation: '?' } },
      { task: 'tasks.hello', kwargs: { name: 'Bob', greeting: 'Hi' } },
      { task: 'tasks.defaults', args: [1] },
      { task: 'tasks.defaults', args: [1, 5], kwargs: { d: 4, e: false } },
      { task: 'tasks.echo_int', args: [2 ** 40] },
      { task: 'tasks.echo_float', args: [1.5] },
      { task: 'tasks.echo_str', args: [unicode] },
      { task: 'tasks.echo_bool', args: [true] },
      { task: 'tasks.echo_none', args: [null] },
      { task: 'tasks.echo_list', args: [[3, 2, 1]] },
      { task: 'tasks.echo_dict', args: [nested] },
      { task: 'tasks.describe', args: [7, 0.25, unicode, false, null, [1, 'two'], nested] },
      { task: 'tasks.whoami', args: ['py'] },
      { task: 'interop.custom_named', args: [4] },
      { task: 'tasks.collect', args: [1, 2], kwargs: { k: 'v' } },
    ]);
    const values = outcomes.map((o) => (o.ok ? o.value : `${o.type}: ${o.message}`));
    assert.deepEqual(values, [
      5,
      'Hello, Ann?',
      'Hi, Bob!',
      [1, 2, 'c', null, true],
      [1, 5, 'c', 4, false],
      2 ** 40,
      1.5,
      unicode,
      true,
      null,
      [3, 2, 1],
      nested,
      {
        i: ['number', 7],
        f: ['number', 0.25],
        s: ['string', unicode],
        b: ['boolean', false],
        n: ['null', null],
        items: ['array', [1, 'two']],
        mapping: ['object', nested],
      },
      { id: outcomes[13]!.id, retries: 0, tag: 'py', name: 'tasks.whoami' },
      40,
      { args: [1, 2], kwargs: { k: 'v' } },
    ]);
  });

  test("a header integer beyond int32 (py-amqp's `L`) reaches the handler; the connection survives", async () => {
    const outcomes = await runPythonClient(queue, [
      { task: 'tasks.whoami', args: ['big'], options: { retries: 2 ** 40 } },
      { task: 'tasks.add', args: [3, 4] },
    ]);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? o.value : `${o.type}: ${o.message}`)),
      [{ id: outcomes[0]!.id, retries: 2 ** 40, tag: 'big', name: 'tasks.whoami' }, 7],
    );
    assert.ok(!log.lines.some((l) => /Unexpected type tag|connection closed/.test(l.message)));
  });

  test('protocol v1 messages from a Python client run too', async () => {
    const outcomes = await runPythonClient(
      queue,
      [
        { task: 'tasks.add', args: [2, 3] },
        { task: 'tasks.hello', args: ['Ann'], kwargs: { punctuation: '?' } },
        { task: 'tasks.whoami', args: ['v1'] },
      ],
      { protocol: 1 },
    );
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? o.value : `${o.type}: ${o.message}`)),
      [5, 'Hello, Ann?', { id: outcomes[2]!.id, retries: 0, tag: 'v1', name: 'tasks.whoami' }],
    );
  });

  test('a thrown `class MyError extends Error` raises MyError with its message in Python', async () => {
    const [custom, value] = await runPythonClient(queue, [{ task: 'tasks.fail_custom' }, { task: 'tasks.fail_value', args: ['no good'] }]);
    assert.ok(custom && !custom.ok);
    assert.equal(custom.type, 'MyError');
    assert.equal(custom.message, 'custom failure from ts');
    assert.equal(custom.state, 'FAILURE');
    assert.match(custom.traceback ?? '', /MyError: custom failure from ts/);
    // A JS error named like a Python builtin becomes the real builtin.
    assert.ok(value && !value.ok);
    assert.equal(value.type, 'ValueError');
    assert.equal(value.module, 'builtins');
    assert.equal(value.message, 'no good');
  });

  test("wrong arguments give Python a TypeError in CPython's words", async () => {
    const outcomes = await runPythonClient(queue, [
      { task: 'tasks.add', args: [1], by_name: true },
      { task: 'tasks.add', args: [1, 2, 3], by_name: true },
      { task: 'tasks.add', args: [1, 2], kwargs: { z: 1 }, by_name: true },
    ]);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? o.value : [o.type, o.module, o.message])),
      [
        ['TypeError', 'builtins', "add() missing 1 required positional argument: 'y'"],
        ['TypeError', 'builtins', 'add() takes 2 positional arguments but 3 were given'],
        ['TypeError', 'builtins', "add() got an unexpected keyword argument 'z'"],
      ],
    );
  });

  test('an unknown task is answered NotRegistered, rejected and logged; the worker keeps running', async () => {
    const [unknown, after] = await runPythonClient(queue, [{ task: 'tasks.not_implemented_in_ts', args: [] }, { task: 'tasks.add', args: [1, 1] }]);
    assert.ok(unknown && !unknown.ok);
    assert.equal(unknown.type, 'NotRegistered');
    assert.equal(unknown.module, 'celery.exceptions');
    assert.equal(unknown.message, "'tasks.not_implemented_in_ts'");
    assert.ok(after?.ok);
    assert.equal(after.value, 2);
    assert.ok(log.lines.some((l) => l.level === 'error' && l.message.includes("unregistered task of type 'tasks.not_implemented_in_ts'")));
    assert.equal((await queueCounts(broker, queue)).messages, 0);
  });

  test('malformed raw messages are rejected, logged and answered when id and reply_to are known', async () => {
    const replyQueue = (await broker.channel.assertQueue('', { exclusive: true, autoDelete: true })).queue;
    const replies: ConsumeMessage[] = [];
    await broker.channel.consume(replyQueue, (m) => m && replies.push(m), { noAck: true });
    const embed = { callbacks: null, errbacks: null, chain: null, chord: null };
    const headers = (id: string) => ({ task: 'tasks.add', id, lang: 'py', root_id: id, retries: 0, timelimit: [null, null] });
    const bad = [
      { id: randomUUID(), body: 'this is not json', contentType: 'application/json' },
      { id: randomUUID(), body: JSON.stringify([[2, 3], {}]).slice(0, -1), contentType: 'application/json' },
      { id: randomUUID(), body: JSON.stringify('a string'), contentType: 'application/json' },
      { id: randomUUID(), body: JSON.stringify([[2, 3], {}, embed, 'extra']), contentType: 'application/json' },
      { id: randomUUID(), body: JSON.stringify({ foo: 1 }), contentType: 'application/json' },
      { id: randomUUID(), body: JSON.stringify([[2, 3], {}, embed]), contentType: 'application/x-python-serialize' },
    ];
    const errorsBefore = log.lines.filter((l) => l.level === 'error').length;
    for (const message of bad) {
      broker.channel.sendToQueue(queue, Buffer.from(message.body), {
        headers: headers(message.id),
        contentType: message.contentType,
        contentEncoding: 'utf-8',
        correlationId: message.id,
        replyTo: replyQueue,
      });
    }
    // No `task` header and no v1 body: nothing to answer, only reject and log.
    broker.channel.sendToQueue(queue, Buffer.from(JSON.stringify([[2, 3], {}, embed])), { contentType: 'application/json', replyTo: replyQueue });
    await waitFor(() => replies.length >= bad.length, 10_000, 'FAILURE replies to the malformed messages');
    const metas = replies.map((r) => JSON.parse(r.content.toString('utf8')) as { task_id: string; status: string; result: { exc_type: string } });
    assert.deepEqual(new Set(metas.map((m) => m.task_id)), new Set(bad.map((b) => b.id)));
    for (const meta of metas) {
      assert.equal(meta.status, 'FAILURE');
      assert.equal(meta.result.exc_type, 'InvalidTaskError');
    }
    await waitFor(
      () => log.lines.filter((l) => l.level === 'error').length - errorsBefore >= bad.length + 1,
      5000,
      'one error log line per malformed message',
    );
    const rejected = log.lines.slice().filter((l) => l.message.startsWith('Rejected a malformed message'));
    assert.ok(rejected.some((l) => l.fields?.['code'] === 'UNSUPPORTED_CONTENT_TYPE'));
    assert.ok(rejected.some((l) => l.fields?.['code'] === 'NOT_A_TASK'));
    // Rejected without requeue: nothing left, nothing redelivered; the worker still answers Python.
    assert.equal((await queueCounts(broker, queue)).messages, 0);
    const [good] = await runPythonClient(queue, [{ task: 'tasks.add', args: [20, 22] }]);
    assert.ok(good?.ok);
    assert.equal(good.value, 42);
  });
});
