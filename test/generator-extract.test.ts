/**
 * Extraction details the goldens do not pin down on their own: line endings, positions
 * after syntax errors, and that odd input ends in diagnostics, never an exception.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { buildManifest, generate } from '../generator/index.js';
import { type PyNode, parsePython } from '../generator/parse.js';
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


/** The binding's own node objects (one native call per property): what parse.ts's cursor reads must equal. */
interface BindingNode {
  type: string;
  startIndex: number;
  endIndex: number;
  isNamed: boolean;
  isMissing: boolean;
  hasError: boolean;
  children: BindingNode[];
  fieldNameForChild(i: number): string | null;
}

function sameTree(ours: PyNode, theirs: BindingNode, where: string): void {
  const at = `${where} ${theirs.type}@${theirs.startIndex}`;
  assert.equal(ours.type, theirs.type, at);
  assert.equal(ours.startIndex, theirs.startIndex, at);
  assert.equal(ours.endIndex, theirs.endIndex, at);
  assert.equal(ours.isMissing, theirs.isMissing, at);
  assert.equal(ours.hasError, theirs.hasError, at);
  const kids = theirs.children;
  assert.equal(ours.children.length, kids.length, at);
  assert.deepEqual(
    ours.namedChildren.map((n) => n.startIndex),
    kids.filter((k) => k.isNamed).map((k) => k.startIndex),
    at,
  );
  kids.forEach((k, i) => {
    const field = theirs.fieldNameForChild(i);
    if (field) assert.ok(ours.childrenForFieldName(field).includes(ours.children[i]!), `${at} field ${field}`);
    sameTree(ours.children[i]!, k, where);
  });
}

test('the tree parse.ts reads through a cursor equals the binding node objects on every fixture (and a broken file)', () => {
  const require = createRequire(import.meta.url);
  const Parser = require('tree-sitter') as new () => { setLanguage(l: unknown): void; parse(t: string): { rootNode: BindingNode } };
  const parser = new Parser();
  parser.setLanguage(require('tree-sitter-python'));
  const texts = fixtureCases().flatMap((c) => c.inputs.map((input) => ({ name: `${c.name}/${input}`, text: readFileSync(join(c.dir, input), 'utf8') })));
  texts.push({ name: 'broken', text: 'def f(a: int, b:\n    return (1,\nclass C(:\n  x: "int\n' });
  for (const { name, text } of texts) sameTree(parsePython(text).root, parser.parse(text).rootNode, name);
});
