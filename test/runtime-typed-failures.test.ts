// Typed failures in the runtime, without a broker: the builtins namespace, the exception
// registry get() uses, and what a worker reports for each kind of thrown class.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Celery, RpcAsyncResult, TaskError, TimeoutError, builtins, silentLogger } from 'celery-gen';
import { ExceptionRegistry } from '../runtime/client/exception-registry.js';
import { exceptionInfo, failureMeta, JS_EXCEPTION_MODULE, revokedMeta, type ResultMeta } from '../runtime/protocol/message.js';

// What the generator emits for `class BillingError(Exception)` / `class CardDeclined(BillingError)` in proj/errors.py.
class BillingError extends builtins.Exception {
  static override readonly pythonModule: string = 'proj.errors';
  static override readonly pythonQualname: string = 'BillingError';
}
class CardDeclined extends BillingError {
  static override readonly pythonModule: string = 'proj.errors';
  static override readonly pythonQualname: string = 'CardDeclined';
}
class Inner extends builtins.Exception {
  static override readonly pythonModule: string = 'proj.errors';
  static override readonly pythonQualname: string = 'Outer.Inner';
}

function failure(excModule: string | null, excType: string, excMessage: unknown[], status: ResultMeta['status'] = 'FAILURE'): ResultMeta {
  return {
    task_id: 'id-1',
    status,
    result: excModule === null ? { exc_type: excType, exc_message: excMessage } : { exc_type: excType, exc_message: excMessage, exc_module: excModule },
    traceback: `Traceback (most recent call last):\n${excModule}.${excType}\n`,
    children: [],
  };
}

describe('the builtins namespace', () => {
  test("mirrors CPython's hierarchy, and every class is a TaskError", () => {
    const error = new builtins.KeyError('k');
    assert.ok(error instanceof builtins.LookupError && error instanceof builtins.Exception && error instanceof builtins.BaseException);
    assert.ok(error instanceof TaskError && error instanceof Error);
    assert.ok(new builtins.TimeoutError() instanceof builtins.OSError);
    assert.ok(new builtins.ZeroDivisionError() instanceof builtins.ArithmeticError);
    assert.ok(new builtins.NotImplementedError() instanceof builtins.RuntimeError);
    assert.ok(new builtins.ConnectionRefusedError() instanceof builtins.ConnectionError);
  });

  test("shadows neither JavaScript's TypeError/RangeError nor the runtime's get() TimeoutError", () => {
    assert.notEqual(builtins.TypeError, globalThis.TypeError);
    assert.notEqual(builtins.TimeoutError, TimeoutError);
    assert.ok(!(new builtins.TypeError('x') instanceof globalThis.TypeError));
    assert.ok(!(new builtins.TimeoutError() instanceof TimeoutError));
  });

  test('an instance carries its Python identity and args; message reads like Python', () => {
    const error = new CardDeclined('card 4242 declined', 42);
    assert.deepEqual([error.excModule, error.excType, error.args], ['proj.errors', 'CardDeclined', ['card 4242 declined', 42]]);
    assert.equal(error.message, 'CardDeclined: card 4242 declined, 42');
    assert.equal(error.name, 'CardDeclined');
    assert.equal(error.code, 'TASK_FAILED');
  });
});

describe('ExceptionRegistry.errorFromMeta', () => {
  const registry = new ExceptionRegistry();
  registry.register([BillingError, CardDeclined, Inner]);

  test('an exact module + type match becomes that class, keeping the result fields', () => {
    const error = registry.errorFromMeta(failure('proj.errors', 'CardDeclined', ['no', 7]));
    assert.ok(error instanceof CardDeclined && error instanceof BillingError && error instanceof builtins.Exception);
    assert.deepEqual([error.taskId, error.state, error.excModule, error.excType, error.excMessage], ['id-1', 'FAILURE', 'proj.errors', 'CardDeclined', ['no', 7]]);
    assert.equal(error.traceback, 'Traceback (most recent call last):\nproj.errors.CardDeclined\n');
  });

  test('a nested class matches by qualified name and by the __name__ Python workers send', () => {
    assert.ok(registry.errorFromMeta(failure('proj.errors', 'Outer.Inner', [])) instanceof Inner);
    assert.ok(registry.errorFromMeta(failure('proj.errors', 'Inner', [])) instanceof Inner);
  });

  test('builtins by name, only when the module is builtins', () => {
    const key = registry.errorFromMeta(failure('builtins', 'KeyError', ['k']));
    assert.ok(key instanceof builtins.KeyError && key instanceof builtins.LookupError);
    const elsewhere = registry.errorFromMeta(failure('other.module', 'KeyError', ['k']));
    assert.ok(!(elsewhere instanceof builtins.BaseException));
    assert.equal(elsewhere.constructor, TaskError);
    assert.equal(registry.errorFromMeta(failure(null, 'KeyError', [])).constructor, TaskError);
  });

  test('an unknown class, and REVOKED, stay a plain TaskError', () => {
    const unknown = registry.errorFromMeta(failure('proj.errors', 'Unlisted', ['u']));
    assert.equal(unknown.constructor, TaskError);
    assert.deepEqual([unknown.excModule, unknown.excType, unknown.excMessage], ['proj.errors', 'Unlisted', ['u']]);
    const revoked = registry.errorFromMeta(revokedMeta('id-2'));
    assert.equal(revoked.constructor, TaskError);
    assert.equal(revoked.code, 'TASK_REVOKED');
  });

  test('the first class registered for an identity keeps it', () => {
    const other = class CardDeclined extends builtins.Exception {
      static override readonly pythonModule: string = 'proj.errors';
      static override readonly pythonQualname: string = 'CardDeclined';
    };
    const r = new ExceptionRegistry();
    r.register([CardDeclined]);
    r.register([other]);
    assert.ok(r.errorFromMeta(failure('proj.errors', 'CardDeclined', [])) instanceof CardDeclined);
  });
});

describe('get() through the app registry', () => {
  test('a result rejects with the registered class; without registration, with a plain TaskError', async () => {
    const app = new Celery({ logger: silentLogger });
    app.registerExceptions([CardDeclined]);
    const registered = new RpcAsyncResult('id-1', { exceptions: app.exceptions });
    registered.receive(failure('proj.errors', 'CardDeclined', ['x']));
    await assert.rejects(registered.get(), (e: unknown) => e instanceof CardDeclined);
    const bare = new RpcAsyncResult('id-1');
    bare.receive(failure('proj.errors', 'CardDeclined', ['x']));
    await assert.rejects(bare.get(), (e: unknown) => e instanceof TaskError && !(e instanceof CardDeclined));
    const builtin = new RpcAsyncResult('id-1');
    builtin.receive(failure('builtins', 'ValueError', ['v']));
    await assert.rejects(builtin.get(), (e: unknown) => e instanceof builtins.ValueError);
    await app.close();
  });
});

describe('what a worker reports for a thrown class', () => {
  test("a generated class sends its Python identity and args, so Python's get() raises the real class", () => {
    assert.deepEqual(exceptionInfo(new CardDeclined('no', 7)), { exc_type: 'CardDeclined', exc_message: ['no', 7], exc_module: 'proj.errors' });
    assert.deepEqual(exceptionInfo(new builtins.KeyError('k')), { exc_type: 'KeyError', exc_message: ['k'], exc_module: 'builtins' });
    const meta = failureMeta('t', new CardDeclined('no'));
    assert.match(meta.traceback ?? '', /CardDeclined: no\n$/);
  });

  test('a plain JS subclass reports its nearest class with a Python identity (which except of that class catches)', () => {
    class Detailed extends CardDeclined {}
    assert.deepEqual(exceptionInfo(new Detailed('d')), { exc_type: 'CardDeclined', exc_message: ['d'], exc_module: 'proj.errors' });
  });

  test('a JS class that merely shares the name does not pretend to be the Python class', () => {
    class Impostor extends Error {
      override name = 'CardDeclined';
    }
    assert.deepEqual(exceptionInfo(new Impostor('i')), { exc_type: 'CardDeclined', exc_message: ['i'], exc_module: JS_EXCEPTION_MODULE });
  });
});
