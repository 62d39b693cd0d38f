// The exceptions tasks raise: how they are found (raise statements, docstrings, options),
// resolved across the input modules, checked for name clashes and emitted as classes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from '../generator/index.js';
import { parseDocstring } from '../generator/docstrings.js';
import { formatTable } from '../generator/inspect-table.js';
import type { SourceInput } from '../generator/inputs.js';

const HEADER = 'from celery import Celery\napp = Celery("proj")\n';

function run(...inputs: [module: string, text: string][]) {
  const sources: SourceInput[] = inputs.map(([module, text]) => ({ file: `${module.replace(/\./g, '/')}.py`, module, text }));
  return generate(sources);
}

function throwsOf(result: ReturnType<typeof run>, task: string) {
  return result.manifest.tasks.find((t) => t.function === task)!.throws.map((t) => [t.exception, t.description]);
}

describe('docstring Raises sections', () => {
  test('Google, NumPy and Sphinx forms give names and texts, and leave the description', () => {
    const google = parseDocstring('Charges.\n\nRaises:\n    CardDeclined: the issuer\n        refused.\n    KeyError\n');
    assert.deepEqual(google.raises, [['CardDeclined', 'the issuer refused.'], ['KeyError', '']]);
    assert.equal(google.description, 'Charges.');
    const numpy = parseDocstring('Charges.\n\nRaises\n------\nerrors.Fraud\n    looks fraudulent.\nLookupError, TimeoutError\n    slow.');
    assert.deepEqual(numpy.raises, [['errors.Fraud', 'looks fraudulent.'], ['LookupError', 'slow.'], ['TimeoutError', 'slow.']]);
    const sphinx = parseDocstring('Charges.\n\n:param x: X.\n:raises CardDeclined: refused\n    for good.\n:raise KeyError: missing');
    assert.deepEqual(sphinx.raises, [['CardDeclined', 'refused for good.'], ['KeyError', 'missing']]);
    assert.deepEqual(sphinx.params, [['x', 'X.']]);
  });
});

describe('raise statements and options', () => {
  test('raise X(...), raise X and raise mod.X count; re-raises, values and nested functions do not', () => {
    const result = run(
      [
        'proj.tasks',
        `${HEADER}import builtins as b\n\n@app.task(bind=True, autoretry_for=(ConnectionError,), throws=(LookupError,))\ndef t(self, x: int) -> None:\n` +
          '    if x:\n        raise ValueError("v")\n    if x > 1:\n        raise KeyError\n    if x > 2:\n        raise b.IndexError()\n' +
          '    try:\n        pass\n    except OSError as exc:\n        raise exc\n    except Exception:\n        raise\n' +
          '    def helper():\n        raise RuntimeError("nested")\n    raise self.retry(countdown=1)\n',
      ],
    );
    assert.deepEqual(throwsOf(result, 't'), [
      ['builtins.ValueError', null],
      ['builtins.KeyError', null],
      ['builtins.IndexError', null],
      ['builtins.ConnectionError', null],
      ['builtins.LookupError', null],
    ]);
    assert.deepEqual(result.diagnostics, []);
  });

  test('one entry per class, with the docstring text wherever it was named first', () => {
    const result = run(['proj.tasks', `${HEADER}@app.task\ndef t() -> None:\n    """Does.\n\n    Raises:\n        ValueError: when bad.\n    """\n    raise ValueError("bad")\n`]);
    assert.deepEqual(throwsOf(result, 't'), [['builtins.ValueError', 'when bad.']]);
    assert.match(result.text!, /@throws \{builtins\.ValueError\} when bad\./);
  });
});

describe('resolution across the input modules', () => {
  const errors = 'class Base(Exception):\n    """Base."""\nclass Mixin:\n    pass\nclass Child(Middle, Mixin):\n    """Declared before its base."""\nclass Middle(Base):\n    pass\nclass Odd(socket.timeout):\n    pass\n';

  test('from-imports, relative imports and module aliases reach the defining module; bases come first', () => {
    const result = run(
      ['proj.tasks', `${HEADER}from proj.errors import Child\nfrom .errors import Odd\nimport proj.errors as e\n\n@app.task\ndef t() -> None:\n    raise Child()\n\n@app.task\ndef u() -> None:\n    raise Odd\n\n@app.task\ndef v() -> None:\n    raise e.Base("b")\n`],
      ['proj.errors', `import socket\n${errors}`],
    );
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(
      result.manifest.exceptions.map((x) => [x.module, x.name, x.bases]),
      [
        ['proj.errors', 'Base', ['builtins.Exception']],
        ['proj.errors', 'Middle', ['proj.errors.Base']],
        ['proj.errors', 'Child', ['proj.errors.Middle', 'proj.errors.Mixin']],
        ['proj.errors', 'Odd', ['socket.timeout']],
      ],
    );
    assert.deepEqual(throwsOf(result, 't'), [['proj.errors.Child', null]]);
    assert.deepEqual(throwsOf(result, 'v'), [['proj.errors.Base', null]]);
    const text = result.text!;
    assert.match(text, /export class Base extends builtins\.Exception \{\n  static override readonly pythonModule: string = 'proj\.errors';/);
    assert.match(text, /export class Child extends Middle \{/);
    assert.match(text, /export class Odd extends builtins\.BaseException \{/);
    assert.ok(text.indexOf('class Middle') < text.indexOf('class Child'), 'a class is declared after its base');
    assert.doesNotMatch(text, /class Mixin/);
    assert.match(text, /\/\*\* Declared before its base\. \*\/\nexport class Child/);
    assert.match(text, /export const EXCEPTIONS: readonly PythonExceptionClass\[\] = \[Base, Middle, Child, Odd\];/);
    assert.match(text, /app\.registerExceptions\(EXCEPTIONS\);/);
    assert.match(formatTable(result.manifest), /\nexceptions: Base \(proj\.errors\), Middle \(proj\.errors\), Child \(proj\.errors\), Odd \(proj\.errors\)\n/);
    // Deterministic.
    assert.equal(run(['proj.tasks', `${HEADER}from proj.errors import Child\n@app.task\ndef t() -> None:\n    raise Child()\n`], ['proj.errors', `import socket\n${errors}`]).text, run(['proj.tasks', `${HEADER}from proj.errors import Child\n@app.task\ndef t() -> None:\n    raise Child()\n`], ['proj.errors', `import socket\n${errors}`]).text);
  });

  test('a package that re-exports the class, and a module outside the ones read', () => {
    const result = generate([
      { file: 'proj/tasks.py', module: 'proj.tasks', text: `${HEADER}from proj import Declined\nfrom other.errors import Late\n\n@app.task\ndef t() -> None:\n    raise Declined()\n\n@app.task\ndef u() -> None:\n    raise Late()\n` },
      { file: 'proj/__init__.py', module: 'proj', text: 'from .errors import Declined\n' },
      { file: 'proj/errors.py', module: 'proj.errors', text: 'class Declined(ValueError):\n    pass\n' },
    ]);
    assert.deepEqual(throwsOf(result, 't'), [['proj.errors.Declined', null]]);
    // `other.errors` was not read: the class cannot be told, which is a warning, not a guess.
    assert.deepEqual(throwsOf(result, 'u'), [[null, null]]);
    assert.deepEqual(result.diagnostics.map((d) => [d.line, d.code]), [[12, 'unresolved-exception']]);
  });

  test('an unresolved exception is a warning at its position, and the task still generates', () => {
    const result = run(['proj.tasks', `${HEADER}@app.task\ndef t() -> None:\n    """Does.\n\n    :raises Ghost: never defined.\n    """\n    raise Phantom("x")\n`]);
    assert.notEqual(result.text, null);
    assert.deepEqual(
      result.diagnostics.map((d) => [d.file, d.line, d.column, d.severity, d.code]),
      [
        ['proj/tasks.py', 7, 13, 'warning', 'unresolved-exception'],
        ['proj/tasks.py', 9, 11, 'warning', 'unresolved-exception'],
      ],
    );
    assert.match(result.diagnostics[1]!.message, /task 't' raises 'Phantom'/);
    assert.match(result.text!, /@throws \{TaskError\} Python's `Ghost`: never defined\./);
  });
});

describe('name collisions', () => {
  test('an exception class named like a task, a type, or a name the module declares is an error naming both', () => {
    const result = run(
      ['proj.tasks', `${HEADER}from dataclasses import dataclass\nimport proj.errors as errors\n\n@dataclass\nclass Invoice:\n    total: int\n\n@app.task\ndef Receipt(i: Invoice) -> None:\n    raise errors.Receipt()\n\n@app.task\ndef s() -> None:\n    raise errors.Invoice()\n\n@app.task\ndef w() -> None:\n    raise errors.EXCEPTIONS()\n`],
      ['proj.errors', 'class Receipt(Exception):\n    pass\nclass Invoice(Exception):\n    pass\nclass EXCEPTIONS(Exception):\n    pass\n'],
    );
    assert.equal(result.text, null);
    const messages = result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`);
    assert.deepEqual(messages, [
      "proj/errors.py:1:7: exception class 'proj.errors.Receipt' and task 'Receipt' (proj/tasks.py:11:5) both become 'Receipt' in TypeScript",
      "proj/errors.py:3:7: exception class 'proj.errors.Invoice' and type 'proj.tasks.Invoice' (proj/tasks.py:7:7) both become 'Invoice' in TypeScript",
      "proj/errors.py:5:7: exception class 'proj.errors.EXCEPTIONS' has the name of something the generated module declares or imports",
    ]);
  });
});
