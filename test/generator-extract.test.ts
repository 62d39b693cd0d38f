/**
 * Extraction details the goldens do not pin down on their own: line endings, positions
 * after syntax errors, and that odd input ends in diagnostics, never an exception.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildManifest, generate } from '../generator/index.js';
import { FIXTURES_DIR } from './support/generator-fixtures.js';

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

test('a task name that is not a literal is an error at the name', () => {
  const m = manifest("from celery import shared_task\nPREFIX = 'p'\n@shared_task(name=PREFIX + '.x')\ndef x() -> None: ...\n");
  assert.deepEqual(
    m.diagnostics.map((d) => [d.line, d.column, d.severity, d.code]),
    [[3, 19, 'error', 'non-literal-name']],
  );
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
