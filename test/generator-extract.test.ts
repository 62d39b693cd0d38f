/**
 * Extraction details the goldens do not pin down on their own: line endings, positions
 * after syntax errors, and that odd input ends in diagnostics, never an exception.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { extractModule } from '../generator/extract.js';
import { buildManifest, generate } from '../generator/index.js';
import { FIXTURES_DIR, fixtureCases } from './support/generator-fixtures.js';

const manifest = (text: string) => buildManifest([{ file: 't.py', module: 't', text }]);

test('CRLF line endings give the same tasks and positions as LF', () => {
  const lf = readFileSync(join(FIXTURES_DIR, 'types-classes/tasks.py'), 'utf8');
  const a = manifest(lf);
  const b = manifest(lf.replace(/\n/g, '\r\n'));
  assert.deepEqual(
    b.tasks.map((t) => [t.name, t.location, t.params.map((p) => p.tsType)]),
    a.tasks.map((t) => [t.name, t.location, t.params.map((p) => p.tsType)]),
  );
  assert.equal(b.tasks[0]!.doc, a.tasks[0]!.doc);
});

test('lone CR line endings (classic Mac) read as Python reads them: same tasks and positions as LF, no syntax error', () => {
  const lf = readFileSync(join(FIXTURES_DIR, 'types-classes/tasks.py'), 'utf8');
  const a = manifest(lf);
  const b = manifest(lf.replace(/\n/g, '\r'));
  assert.deepEqual(b.diagnostics.map((d) => [d.line, d.column, d.code]), a.diagnostics.map((d) => [d.line, d.column, d.code]));
  assert.deepEqual(
    b.tasks.map((t) => [t.name, t.location, t.params.map((p) => [p.tsType, p.location])]),
    a.tasks.map((t) => [t.name, t.location, t.params.map((p) => [p.tsType, p.location])]),
  );
  // Before, the whole file was line 1 and syntax-error messages quoted text across CRs.
  const broken = manifest('x = 1\rdef f(:\r    pass\r');
  assert.deepEqual(broken.diagnostics.map((d) => [d.line, d.code]), [[2, 'syntax-error']]);
  assert.doesNotMatch(broken.diagnostics[0]!.message, /[\r\n]/);
});

test('deep nesting has one outcome whatever stack is left: past 32 levels a type is unknown with a warning', () => {
  const deep = (n: number) => `${'list['.repeat(n)}int${']'.repeat(n)}`;
  const text = `from celery import shared_task\n@shared_task\ndef f(a: ${deep(2000)}, b: '${deep(2000)}' = ${'['.repeat(2000)}${']'.repeat(2000)}, c: ${deep(32)} = None) -> ${'int | '.repeat(3000)}None: ...\n`;
  const top = generate([{ file: 't.py', module: 't', text }]);
  // The same input with most of the stack already used must give the same answer.
  const nested = (depth: number): ReturnType<typeof generate> => (depth === 0 ? generate([{ file: 't.py', module: 't', text }]) : nested(depth - 1));
  assert.deepEqual(nested(5000), top);
  assert.notEqual(top.text, null);
  assert.deepEqual(
    top.diagnostics.map((d) => [d.code, d.message]),
    [['unknown-type', 'type is nested more than 32 levels deep; it becomes unknown'], ['unknown-type', 'type is nested more than 32 levels deep; it becomes unknown']],
  );
  const [a, b, c] = top.manifest.tasks[0]!.params;
  assert.equal(a!.tsType, `${'unknown'}${'[]'.repeat(33)}`);
  assert.equal(b!.tsType, 'unknown');
  assert.equal(b!.default?.literal, false);
  assert.equal(c!.tsType, `number${'[]'.repeat(32)} | null`);
  assert.equal(top.manifest.tasks[0]!.returns.tsType, 'number | null');
});

test('diagnostics quoting source stay on one line and short', () => {
  const m = manifest(`from celery import shared_task\n@shared_task(name='a\\nb')\ndef f(x: (lambda:\n  1), y: Literal[\n  f(${'z, '.repeat(100)}1)]) -> None: ...\n@shared_task(name='a\\nb')\ndef g() -> None: ...\n`);
  assert.ok(m.diagnostics.length >= 3, JSON.stringify(m.diagnostics));
  for (const d of m.diagnostics) {
    assert.doesNotMatch(d.message, /[\r\n]/);
    assert.ok(d.message.length < 200, d.message);
  }
});

test('option and dict keys named __proto__ stay ordinary keys, not prototypes', () => {
  const m = manifest("from celery import shared_task\n@shared_task(__proto__=1, retry_kwargs={'__proto__': {'polluted': True}, 'a': 2})\ndef f() -> None: ...\n");
  const options = m.tasks[0]!.options;
  assert.equal(Object.getPrototypeOf(options), Object.prototype);
  assert.deepEqual(Object.keys(options), ['__proto__', 'retry_kwargs']);
  assert.equal(Object.getOwnPropertyDescriptor(options, '__proto__')?.value, 1);
  const kwargs = options['retry_kwargs'] as Record<string, unknown>;
  assert.deepEqual(Object.keys(kwargs), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(kwargs), Object.prototype);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('a task name built from a constant is resolved; one that cannot be is an error at the name', () => {
  const ok = manifest("from celery import shared_task\nPREFIX = 'p'\n@shared_task(name=PREFIX + '.x')\ndef x() -> None: ...\n");
  assert.deepEqual(ok.diagnostics, []);
  assert.equal(ok.tasks[0]!.name, 'p.x');
  const m = manifest("from celery import shared_task\nfrom elsewhere import PREFIX\n@shared_task(name=PREFIX + '.x')\ndef x() -> None: ...\n");
  assert.deepEqual(
    m.diagnostics.map((d) => [d.line, d.column, d.severity, d.code]),
    [[3, 19, 'error', 'non-literal-name']],
  );
  assert.equal(m.tasks[0]!.name, null);
});

test('an unterminated string at the end of the file is a positioned syntax error; earlier tasks survive', () => {
  const m = manifest("from celery import shared_task\n@shared_task\ndef ok() -> int: ...\nx = 'open\n");
  assert.deepEqual(m.tasks.map((t) => t.name), ['t.ok']);
  assert.equal(m.diagnostics.length, 1);
  assert.equal(m.diagnostics[0]!.code, 'syntax-error');
  assert.equal(m.diagnostics[0]!.line, 4);
});

test('truncated and mutated fixtures never throw: output or positioned diagnostics', () => {
  const sources = ['types-classes', 'params', 'docstrings', 'class-based'].map((c) => readFileSync(join(FIXTURES_DIR, c, 'tasks.py'), 'utf8'));
  fc.assert(
    fc.property(
      fc.constantFrom(...sources),
      fc.nat(),
      fc.nat(),
      fc.string({ maxLength: 8 }),
      (source, a, b, insert) => {
        const cut = a % (source.length + 1);
        const at = b % (cut + 1);
        const text = source.slice(0, at) + insert + source.slice(at, cut);
        const r = generate([{ file: 't.py', module: 't', text }]);
        if (r.text === null) assert.ok(r.diagnostics.some((d) => d.severity === 'error'));
        const lines = text.split('\n');
        for (const d of r.diagnostics) {
          assert.ok(d.line >= 1 && d.line <= lines.length, `line ${d.line} outside 1..${lines.length}`);
          assert.ok(d.column >= 1 && d.column <= [...lines[d.line - 1]!].length + 1, `column ${d.column} outside line ${d.line}`);
        }
        return true;
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});

test('the JavaScript header fast path and the tree-sitter nodes give the same extraction (fixtures)', () => {
  for (const c of fixtureCases()) {
    for (const input of c.inputs) {
      const text = readFileSync(join(c.dir, input), 'utf8');
      assert.deepEqual(extractModule(input, 'm', text, { fastPath: true }), extractModule(input, 'm', text, { fastPath: false }), `${c.name}/${input}`);
    }
  }
});

test('the fast path agrees with tree-sitter on generated signatures', () => {
  const annotation = fc.constantFrom(
    'int', 'str', "'list[int]'", 'Optional[str]', 'int | None | str', 'dict[str, list[tuple[int, ...]]]', "Literal['a', -1, None]",
    'typing.Dict[str, t.Any]', 'tuple[()]', 'Annotated[int, "meta"]', 'Callable[[int], str]', '"Optional[\'Tree\']"', 'x.y.Z',
  );
  const value = fc.constantFrom(
    '1', '-2.5', "'s'", 'r"\\d"', 'None', 'True', '(1, 2)', '[1, [2]]', "{'k': 'v'}", 'os.sep', 'f(1, k=2)', '3 * 2', '1 + 2 + 3',
    'lambda: 1', '[x for x in y]', 'a if b else c', "f'{x}'", "b'x'", '1_000', '0x1F', '1e3', '...', '(1)', '()', '{1, 2}', 'not x', 'x < 1',
  );
  const param = fc.tuple(fc.constantFrom('a', 'b', 'c', 'new', 'self'), fc.option(annotation), fc.option(value)).map(
    ([n, ann, v]) => `${n}${ann === null ? '' : `: ${ann}`}${v === null ? '' : ` = ${v}`}`,
  );
  const decorator = fc.constantFrom(
    '@app.task', '@app.task()', '@shared_task', "@app.task(bind=True, queue='q', max_retries=3 * 2)", '@celery.shared_task(name="x.y")',
    '@logged', '@app.task(autoretry_for=(ValueError,), retry_kwargs={"a": 1})', '@st', '@app.task(\n    bind=True,  # c\n)',
  );
  const doc = fc.constantFrom('', '    """Doc."""\n', "    '''Multi\n    line.'''\n", '    "a" "b"\n', '    # comment\n    """After a comment."""\n', '    x = 1\n', '    "x".format(1)\n');
  fc.assert(
    fc.property(fc.array(decorator, { minLength: 1, maxLength: 3 }), fc.uniqueArray(param, { maxLength: 4, selector: (p) => p.split(/[:=]/)[0] }), fc.option(annotation), doc, fc.boolean(), (decs, params, ret, body, isAsync) => {
      const text = `import os\nfrom celery import Celery, shared_task\nfrom celery import shared_task as st\napp = Celery('t')\n${decs.join('\n')}\n${isAsync ? 'async ' : ''}def task_fn(${params.join(', ')})${ret === null ? '' : ` -> ${ret}`}:\n${body}    return 1\n`;
      const slow = extractModule('t.py', 't', text, { fastPath: false });
      fc.pre(slow.diagnostics.every((d) => d.code !== 'syntax-error'));
      assert.deepEqual(extractModule('t.py', 't', text, { fastPath: true }), slow, text);
      return true;
    }),
    { numRuns: 400, seed: 11 },
  );
});
