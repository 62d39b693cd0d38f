// Result payloads: encode/decode, the metas a TS worker sends, and the exceptions Python's
// own client code rebuilds from our FAILURE replies (Celery's exception_to_python as oracle).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ArgumentError, ProtocolError, TaskError } from '../runtime/protocol/errors.js';
import {
  decodeResult,
  encodeResult,
  exceptionInfo,
  failureMeta,
  JS_EXCEPTION_MODULE,
  notRegisteredMeta,
  retryMeta,
  revokedMeta,
  startedMeta,
  successMeta,
  taskErrorFromMeta,
  type ResultMeta,
} from '../runtime/protocol/message.js';
import { loadCapture } from './support/captures.js';
import { PYTHON, peerMissing } from './support/python.js';

class MyError extends Error {
  override name = 'MyError';
}
class PrintError extends Error {
  override name = 'print'; // a builtins attribute that is not an exception class
}
class ExitError extends Error {
  override name = 'SystemExit';
}
class BadName extends Error {
  override name = 'my error!';
}
class Unnamed extends Error {}

describe('failureMeta / exceptionInfo', () => {
  test('JS builtins with Python namesakes are Python builtins', () => {
    assert.deepEqual(exceptionInfo(new TypeError('bad')), { exc_type: 'TypeError', exc_message: ['bad'], exc_module: 'builtins' });
    assert.deepEqual(exceptionInfo(new SyntaxError('x')), { exc_type: 'SyntaxError', exc_message: ['x'], exc_module: 'builtins' });
  });
  test('other names go to a module no Python client imports', () => {
    assert.deepEqual(exceptionInfo(new MyError('boom')), { exc_type: 'MyError', exc_message: ['boom'], exc_module: JS_EXCEPTION_MODULE });
    assert.deepEqual(exceptionInfo(new Error('plain')), { exc_type: 'Error', exc_message: ['plain'], exc_module: JS_EXCEPTION_MODULE });
    assert.deepEqual(exceptionInfo(new RangeError('r')), { exc_type: 'RangeError', exc_message: ['r'], exc_module: JS_EXCEPTION_MODULE });
    assert.equal(exceptionInfo(new PrintError('x')).exc_module, JS_EXCEPTION_MODULE);
    assert.equal(exceptionInfo(new ExitError('x')).exc_module, JS_EXCEPTION_MODULE);
    assert.equal(exceptionInfo(new BadName('x')).exc_type, 'Error');
    // A subclass that keeps name 'Error' is known by its class name, as in Python.
    assert.deepEqual(exceptionInfo(new Unnamed('u')), { exc_type: 'Unnamed', exc_message: ['u'], exc_module: JS_EXCEPTION_MODULE });
  });
  test('ArgumentError is a TypeError; a Python TaskError keeps its identity; non-Errors are Exception', () => {
    assert.deepEqual(exceptionInfo(new ArgumentError("add() missing 1 required positional argument: 'y'")), {
      exc_type: 'TypeError',
      exc_message: ["add() missing 1 required positional argument: 'y'"],
      exc_module: 'builtins',
    });
    const py = new TaskError({ taskId: 't', state: 'FAILURE', excType: 'CustomError', excMessage: ['custom failure', 42], excModule: 'proj.tasks', traceback: 'tb' });
    assert.deepEqual(exceptionInfo(py), { exc_type: 'CustomError', exc_message: ['custom failure', 42], exc_module: 'proj.tasks' });
    assert.deepEqual(exceptionInfo('a string'), { exc_type: 'Exception', exc_message: ['a string'], exc_module: 'builtins' });
    assert.deepEqual(exceptionInfo({ code: 1 }), { exc_type: 'Exception', exc_message: ['{"code":1}'], exc_module: 'builtins' });
    assert.deepEqual(exceptionInfo(new Error('')).exc_message, []);
  });
  test('a huge one-line message does not slow the traceback down', () => {
    const started = performance.now();
    const meta = failureMeta('id', new Error(`    at ${'x'.repeat(200_000)} (`));
    assert.ok(performance.now() - started < 1000);
    assert.match(String(meta.traceback), /^Traceback/);
  });
  test('the traceback is Python-shaped and carries the JS stack', () => {
    const meta = failureMeta('id-1', new MyError('boom'));
    assert.equal(meta.status, 'FAILURE');
    assert.match(String(meta.traceback), /^Traceback \(most recent call last\):\n/);
    assert.match(String(meta.traceback), /File ".*protocol-results\.test\.ts", line \d+, in /);
    assert.match(String(meta.traceback), /\nMyError: boom\n$/);
    assert.deepEqual(meta.children, []);
  });
  test('key order and bytes as Python writes them', () => {
    const body = encodeResult(failureMeta('id-1', new TypeError('bad'))).body.toString();
    assert.match(body, /^\{"task_id": "id-1", "status": "FAILURE", "result": \{"exc_type": "TypeError", "exc_message": \["bad"\], "exc_module": "builtins"\}, "traceback": "Traceback/);
    assert.match(body, /, "children": \[\]\}$/);
  });
});

describe('the other metas', () => {
  test('success, started, revoked, not registered, retry', () => {
    assert.equal(encodeResult(successMeta('i', 5)).body.toString(), '{"task_id": "i", "status": "SUCCESS", "result": 5, "traceback": null, "children": []}');
    assert.deepEqual(successMeta('i', undefined).result, null);
    assert.deepEqual(startedMeta('i', 12, 'celery@host').result, { pid: 12, hostname: 'celery@host' });
    assert.deepEqual(revokedMeta('i', 'expired').result, { exc_type: 'TaskRevokedError', exc_message: ['expired'], exc_module: 'celery.exceptions' });
    assert.equal(notRegisteredMeta('i', 'x.y').traceback, null);
    const retry = retryMeta('i', new RuntimeError('transient'), 1);
    assert.equal(retry.status, 'RETRY');
    assert.deepEqual(retry.children, [[['i', null], null]]);
    assert.match(String(retry.traceback), /celery\.exceptions\.Retry: Retry in 1s: RuntimeError\('transient'\)\n$/);
  });
  test('extra keys follow the five Python keys', () => {
    const meta: ResultMeta = { date_done: '2026-01-01T00:00:00', task_id: 'i', status: 'SUCCESS', result: 1, traceback: null, children: [] };
    assert.equal(encodeResult(meta).body.toString(), '{"task_id": "i", "status": "SUCCESS", "result": 1, "traceback": null, "children": [], "date_done": "2026-01-01T00:00:00"}');
  });
  test('bytes in a result need typed JSON (kombu 5.2 peers cannot read them)', () => {
    assert.throws(() => encodeResult(successMeta('i', new Uint8Array([1]))), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_RESULT' && e.taskId === 'i');
    assert.match(encodeResult(successMeta('i', new Uint8Array([0x61])), { typed: true }).body.toString(), /\{"__type__": "bytes", "__value__": "a"\}/);
  });
});

class RuntimeError extends Error {
  override name = 'RuntimeError';
}

describe('decodeResult refuses what Python cannot use', () => {
  const bad: [string, string, string?][] = [
    ['not JSON', 'nope'],
    ['a list', '[1]'],
    ['no task_id (Python raises KeyError and loses the reply)', '{"status": "SUCCESS", "result": 5}'],
    ['a lowercase status (Python never completes)', '{"task_id": "i", "status": "success", "result": 5}'],
    ['a traceback that is not text', '{"task_id": "i", "status": "SUCCESS", "traceback": 1}'],
    ['children that are not a list', '{"task_id": "i", "status": "SUCCESS", "children": {}}'],
    ['pickle', '{"task_id": "i", "status": "SUCCESS"}', 'application/x-python-serialize'],
  ];
  for (const [name, body, type] of bad) {
    test(name, () => {
      assert.throws(() => decodeResult(Buffer.from(body), type ?? 'application/json'), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_RESULT');
    });
  }
  test('accepts the shapes Python accepts: no traceback/children, extra keys, compact raw UTF-8', () => {
    const meta = decodeResult(Buffer.from('{"task_id":"i","status":"SUCCESS","result":"héllo ✓ 🎉","worker":"w"}'), 'application/json');
    assert.equal(meta.result, 'héllo ✓ 🎉');
    assert.equal(meta.traceback, null);
    assert.equal(meta.children, null);
    assert.equal(meta['worker'], 'w');
  });
});

describe('taskErrorFromMeta', () => {
  test('captured Python failures read like the last traceback line', () => {
    const [, failure] = loadCapture('celery-5.2/rpc-result-failure-custom.json').messages_in_order ?? [];
    assert.ok(failure);
    const error = taskErrorFromMeta(decodeResult(Buffer.from(failure.body_raw ?? ''), 'application/json'));
    assert.ok(error instanceof TaskError);
    assert.equal(error.code, 'TASK_FAILED');
    assert.equal(error.excType, 'CustomError');
    assert.deepEqual(error.excMessage, ['custom failure', 42]);
    assert.equal(error.excModule, 'proj.tasks');
    assert.equal(error.message, 'CustomError: custom failure, 42');
    assert.match(String(error.traceback), /proj\.tasks\.CustomError/);
  });
  test('every FAILURE shape Python clients were fed gives a TaskError, never a crash', () => {
    const variants = loadCapture('celery-5.2/asyncresult-get-failure-variants.json')['results'] as { variant: string; published_body: ResultMeta }[];
    assert.ok(variants.length >= 10);
    for (const v of variants) {
      const error = taskErrorFromMeta(v.published_body);
      assert.ok(error instanceof TaskError, v.variant);
      const result = v.published_body.result as Record<string, unknown> | null;
      if (result !== null && typeof result === 'object' && typeof result['exc_type'] === 'string') assert.equal(error.excType, result['exc_type'], v.variant);
    }
  });
  test('REVOKED is TASK_REVOKED', () => {
    const error = taskErrorFromMeta(revokedMeta('i', 'expired'));
    assert.equal(error.code, 'TASK_REVOKED');
    assert.equal(error.message, 'TaskRevokedError: expired');
  });
});

describe("what Python's client rebuilds from our FAILURE replies (celery exception_to_python)", () => {
  const skip = peerMissing();
  const oracle = fileURLToPath(new URL('../fixtures/messages/python/rebuild-exceptions.py', import.meta.url));
  const cases: [string, ResultMeta, Record<string, unknown>][] = [
    ['TypeError → builtins.TypeError', failureMeta('a', new TypeError('bad')), { module: 'builtins', name: 'TypeError', str: 'bad' }],
    ['MyError → a synthesized MyError', failureMeta('a', new MyError('boom from ts')), { module: 'celery.exceptions', name: 'MyError', str: 'boom from ts' }],
    ['plain Error → Error', failureMeta('a', new Error('plain')), { module: 'celery.exceptions', name: 'Error', str: 'plain' }],
    ["an error named 'print' → no SecurityError", failureMeta('a', new PrintError('p')), { module: 'celery.exceptions', name: 'print', str: 'p' }],
    ["an error named 'SystemExit' → not the real SystemExit", failureMeta('a', new ExitError('bye')), { module: 'celery.exceptions', name: 'SystemExit', is_exception: true }],
    ['ArgumentError → TypeError', failureMeta('a', new ArgumentError("add() missing 1 required positional argument: 'y'")), { module: 'builtins', name: 'TypeError', str: "add() missing 1 required positional argument: 'y'" }],
    ['a thrown string → Exception', failureMeta('a', 'just text'), { module: 'builtins', name: 'Exception', str: 'just text' }],
    ['unicode message', failureMeta('a', new Error('héllo ✓ 🎉')), { str: 'héllo ✓ 🎉' }],
    ['empty message', failureMeta('a', new MyError('')), { repr: 'MyError()' }],
    ['NotRegistered', notRegisteredMeta('a', 'x.y'), { module: 'celery.exceptions', name: 'NotRegistered', str: "'x.y'" }],
    ['TaskRevokedError', revokedMeta('a', 'revoked'), { module: 'celery.exceptions', name: 'TaskRevokedError', str: 'revoked' }],
  ];
  test('each reply rebuilds to the expected Python exception', { skip }, () => {
    const input = cases.map(([, meta]) => encodeResult(meta).body.toString()).join('\n') + '\n';
    const run = spawnSync(PYTHON, [oracle], { input, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, cases.length);
    cases.forEach(([name, , expected], i) => {
      const got = lines[i] as Record<string, unknown>;
      assert.equal(got['raised'], undefined, `${name}: Python raised ${String(got['raised'])} ${String(got['str'])}`);
      for (const [key, value] of Object.entries(expected)) assert.equal(got[key], value, `${name}: ${key}`);
    });
  });
});
