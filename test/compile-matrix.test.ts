/**
 * Every golden fixtures/<case>/tasks.ts compiles against the packed package, imported as
 * a consumer imports it ('celery-gen' from node_modules), under each TypeScript we
 * support (5.0, the minimum; the latest 5.x; 6.0) and each tsconfig a user may have.
 * One tsc run per (version, config) covers all goldens; two run at a time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureCases } from './support/generator-fixtures.js';
import { type PackedApp, ROOT, packIntoApp } from './support/packed-app.js';
import { inParallel } from './support/parallel.js';

/** The dev dependencies holding each compiler (aliases of `typescript`). */
const COMPILERS = [
  { name: 'TypeScript 5.0', pkg: 'ts50', major: 5 },
  { name: 'TypeScript 5.x (latest)', pkg: 'ts5', major: 5 },
  { name: 'TypeScript 6.0', pkg: 'typescript', major: 6 },
] as const;

type Options = Record<string, unknown>;
// skipLibCheck as most projects set it (tsc --init does): checking @types/node and the
// broker clients' types is most of each run. `strictest` checks every .d.ts, ours included,
// for a user who turns it off (a .d.ts an older compiler rejects shows there).
const BASE: Options = { target: 'ES2022', lib: ['ES2022'], types: ['node'], noEmit: true, skipLibCheck: true };
const BUNDLER: Options = { module: 'ESNext', moduleResolution: 'Bundler' };
const EXACT: Options = { exactOptionalPropertyTypes: true };
const STRICTEST: Options = {
  ...EXACT,
  skipLibCheck: false,
  noUncheckedIndexedAccess: true,
  noPropertyAccessFromIndexSignature: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
};

const CONFIGS: readonly { name: string; options: (major: number) => Options }[] = [
  { name: 'strict', options: () => ({ ...BUNDLER, strict: true }) },
  { name: 'strict + exactOptionalPropertyTypes', options: () => ({ ...BUNDLER, strict: true, ...EXACT }) },
  { name: 'strictest', options: () => ({ ...BUNDLER, strict: true, ...STRICTEST }) },
  {
    name: 'nodenext + verbatimModuleSyntax + isolatedModules',
    options: () => ({ module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, verbatimModuleSyntax: true, isolatedModules: true }),
  },
  {
    // node10 resolution ignores `exports`: package.json main/types/typesVersions must carry it.
    // TypeScript 6.0 deprecates it and accepts it only with ignoreDeprecations.
    name: 'commonjs + moduleResolution node',
    options: (major) => ({ module: 'CommonJS', moduleResolution: 'node10', strict: true, ...(major >= 6 ? { ignoreDeprecations: '6.0' } : {}) }),
  },
];

let packed: PackedApp | undefined;
let goldenFiles: string[] = [];

before(() => {
  packed = packIntoApp();
  const dir = join(packed.dir, 'goldens');
  mkdirSync(dir);
  goldenFiles = fixtureCases()
    .filter((c) => existsSync(join(c.dir, 'tasks.ts')))
    .map((c) => {
      const copy = join(dir, `${c.name}.ts`);
      copyFileSync(join(c.dir, 'tasks.ts'), copy);
      return copy;
    });
});

after(() => packed?.remove());

interface Run {
  readonly label: string;
  readonly status: number | null;
  readonly output: string;
}

function tsc(compiler: (typeof COMPILERS)[number], config: (typeof CONFIGS)[number], index: number): Promise<Run> {
  const app = packed!.dir;
  const tsconfig = join(app, `tsconfig.${index}.json`);
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { ...BASE, ...config.options(compiler.major) }, files: goldenFiles }, null, 2));
  const label = `${compiler.name}, ${config.name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', compiler.pkg, 'bin/tsc'), '-p', tsconfig, '--pretty', 'false'], { cwd: app });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ label, status, output }));
  });
}

test('every golden compiles against the packed package under TypeScript 5.0, 5.x and 6.0 with each tsconfig', async () => {
  assert.ok(goldenFiles.length >= 10, `only ${goldenFiles.length} golden modules`);
  for (const c of COMPILERS) assert.ok(existsSync(join(ROOT, 'node_modules', c.pkg, 'bin/tsc')), `${c.pkg} is not installed (npm ci)`);
  const jobs = COMPILERS.flatMap((compiler, i) => CONFIGS.map((config, j) => () => tsc(compiler, config, i * CONFIGS.length + j)));
  const runs = await inParallel(jobs, 2);
  assert.equal(runs.length, 15);
  const failed = runs.filter((r) => r.status !== 0);
  assert.deepEqual(
    failed.map((r) => `${r.label}: exit ${r.status}\n${r.output.trim()}`),
    [],
  );
});
