/**
 * The type-level tests prove that wrong calls of generated modules do not compile, under
 * the flags users' configs have (strict, noUnusedLocals, noUnusedParameters,
 * exactOptionalPropertyTypes). That the goldens themselves compile, against the packed
 * package under every supported TypeScript and tsconfig, is compile-matrix.test.ts.
 * ts-morph runs the same TypeScript version as `tsc`; it stays off the generate path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT_DIR } from './support/generator-fixtures.js';
import { describeDiagnostics as describe, generatedModuleProject as project } from './support/ts-project.js';

const TYPE_TESTS = join(ROOT_DIR, 'test/support/generator-type-tests.ts');

test('the type-level tests compile, so every @ts-expect-error is met', () => {
  const p = project();
  const file = p.addSourceFileAtPath(TYPE_TESTS);
  const diagnostics = file.getPreEmitDiagnostics();
  // An unmet expectation would itself be an error (TS2578, unused @ts-expect-error).
  assert.equal(diagnostics.length, 0, describe(diagnostics));
});

test('without its @ts-expect-error, each rejected line fails with the expected error', () => {
  const source = readFileSync(TYPE_TESTS, 'utf8');
  const lines = source.split('\n');
  const expected = new Map<number, number>();
  const stripped = lines.map((line, i) => {
    const m = /^(\s*)\/\/ @ts-expect-error TS(\d+)\b/.exec(line);
    if (!m) return line;
    // The directive covers the next line, which keeps its number: blank the directive in place.
    expected.set(i + 2, Number(m[2]));
    return '';
  });
  assert.ok(expected.size >= 10, `only ${expected.size} expectations`);
  const p = project();
  const file = p.createSourceFile(join(ROOT_DIR, 'test/support/generator-type-tests.stripped.ts'), stripped.join('\n'));
  const byLine = new Map<number, number[]>();
  for (const d of file.getPreEmitDiagnostics()) {
    const line = d.getLineNumber() ?? 0;
    byLine.set(line, [...(byLine.get(line) ?? []), d.getCode()]);
  }
  for (const [line, code] of expected) {
    assert.ok(byLine.get(line)?.includes(code), `line ${line} (${lines[line - 1]!.trim()}) should fail with TS${code}, got ${byLine.get(line)?.join(', ') ?? 'no error'}`);
  }
  const unexpected = [...byLine.keys()].filter((l) => !expected.has(l));
  assert.deepEqual(unexpected, [], 'errors on lines that carry no expectation');
});
