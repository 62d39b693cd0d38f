/**
 * Golden files: every fixtures/<case>/ with a tasks.py (or an options.json naming its
 * inputs) is generated and compared byte for byte with its model.json (the `inspect
 * --json` manifest) and tasks.ts. A case whose input has errors must have no tasks.ts.
 * `UPDATE_GOLDEN=1 npm test -- golden` rewrites the goldens; review that diff like code.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateFiles } from '../generator/index.js';
import { unifiedDiff } from '../generator/unified-diff.js';
import { FIXTURES_DIR, fixtureCases } from './support/generator-fixtures.js';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

function compareGolden(path: string, actual: string | null): void {
  const expected = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (UPDATE) {
    if (actual === null) rmSync(path, { force: true });
    else if (actual !== expected) writeFileSync(path, actual);
    return;
  }
  if (actual === null) {
    assert.equal(expected, null, `${path} exists, but generating this case fails (it has errors); delete it or fix the case`);
    return;
  }
  if (expected === actual) return;
  assert.fail(
    `${path} differs from the generated output (UPDATE_GOLDEN=1 npm test -- golden rewrites it):\n` +
      unifiedDiff(expected ?? '', actual, expected === null ? '/dev/null' : `${path} (golden)`, `${path} (generated)`),
  );
}

const cases = fixtureCases();

test('there are generator fixtures to compare', () => {
  assert.ok(cases.length >= 10, `only ${cases.length} fixture cases under ${FIXTURES_DIR}`);
});

for (const c of cases) {
  test(`golden: ${c.name}`, () => {
    const result = generateFiles(c.inputs, { ...c.readOptions, out: 'tasks.ts', cwd: c.dir });
    compareGolden(join(c.dir, 'model.json'), `${JSON.stringify(result.manifest, null, 2)}\n`);
    compareGolden(join(c.dir, 'tasks.ts'), result.text);
    // The manifest is plain data: a JSON round trip loses nothing.
    assert.deepEqual(JSON.parse(JSON.stringify(result.manifest)), result.manifest);
    if (c.expectErrors) assert.equal(result.text, null, `${c.name} should fail to generate (options.json says expectErrors)`);
    else assert.notEqual(result.text, null, `${c.name} has errors:\n${result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n')}`);
  });
}
