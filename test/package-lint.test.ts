/**
 * The packed tarball passes publint (package.json fields point at files that exist, in
 * the right formats) and Are the Types Wrong (every entry point has types under node10,
 * node16 from ESM and CJS, and bundler resolution). Both tools are pinned dev dependencies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PackedApp, ROOT, packIntoApp } from './support/packed-app.js';

let packed: PackedApp | undefined;

before(() => {
  packed = packIntoApp();
});

after(() => packed?.remove());

const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

test('publint --strict finds nothing in the packed tarball', () => {
  const run = spawnSync(bin('publint'), ['run', packed!.tarball, '--strict'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /All good!/);
});

test('Are the Types Wrong finds nothing in the packed tarball but the one accepted finding', () => {
  // Accepted: "cjs-resolves-to-esm". The package is ESM only, on purpose; require('celery-gen')
  // works on every Node that can require() an ES module (20.19+, 22.12+; yargs, a dependency,
  // needs that Node anyway), which package-exports.test.ts proves by running it. attw models
  // the older rule under which require() of ESM is an error, so it reports it as a warning.
  const accepted = 'cjs-resolves-to-esm';
  const run = spawnSync(bin('attw'), [packed!.tarball, '--format', 'json', '--ignore-rules', accepted], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const report = JSON.parse(run.stdout) as { problems: Record<string, { kind: string; entrypoint: string; resolutionKind: string }[]> };
  const others = Object.values(report.problems)
    .flat()
    .filter((p) => p.kind !== 'CJSResolvesToESM');
  assert.deepEqual(others, []);
});
