// What a user's production install gets: the packed tarball installed with --omit=dev into
// an empty project. The bin must generate, the runtime must import from ESM and CommonJS,
// and nothing only the tests use (ts-morph, typescript, tsx) may come along. The size and
// package count are printed as diagnostics; docs/install.md quotes them.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { packTarball, ROOT } from './support/pack.js';

let dir = '';
let app = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'celery-gen-lean-'));
  const tarball = packTarball(dir);
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  // From npm's cache where it can: the test measures what gets installed, not the network.
  execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--silent', tarball], {
    cwd: app,
    stdio: 'pipe',
    timeout: 120_000,
  });
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function node(args: string[]): string {
  const run = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8' });
  assert.equal(run.status, 0, `node ${args.join(' ')} failed:\n${run.stderr}`);
  return run.stdout;
}

test('the installed bin generates the same client as the checkout (fixtures/basic)', () => {
  writeFileSync(join(app, 'tasks.py'), readFileSync(join(ROOT, 'fixtures/basic/tasks.py')));
  node([join(app, 'node_modules/.bin/celery-gen'), 'tasks.py', '-o', 'tasks.ts']);
  assert.equal(readFileSync(join(app, 'tasks.ts'), 'utf8'), readFileSync(join(ROOT, 'fixtures/basic/tasks.ts'), 'utf8'));
});

test('a code cache it cannot write is said on stderr, and the run still generates', () => {
  writeFileSync(join(app, 'tasks.py'), readFileSync(join(ROOT, 'fixtures/basic/tasks.py')));
  rmSync(join(app, 'tasks.ts'), { force: true });
  // os.tmpdir() follows TMPDIR: a folder that does not exist takes the cache's home away.
  const env = { ...process.env, TMPDIR: join(dir, 'no-such-folder') };
  const run = spawnSync(process.execPath, [join(app, 'node_modules/.bin/celery-gen'), 'tasks.py', '-o', 'tasks.ts'], { cwd: app, encoding: 'utf8', env });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /celery-gen: note: cannot write the code cache .*no-such-folder.*running without it, only slower/);
  assert.equal(readFileSync(join(app, 'tasks.ts'), 'utf8'), readFileSync(join(ROOT, 'fixtures/basic/tasks.ts'), 'utf8'));
  // With a writable temp folder the cache is written (and read the next time) without a word.
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  for (let i = 0; i < 2; i++) {
    const ok = spawnSync(process.execPath, [join(app, 'node_modules/.bin/celery-gen'), 'tasks.py', '-o', 'tasks.ts'], { cwd: app, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
    assert.equal(ok.status, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /code cache/);
  }
});

test('the runtime imports from ESM and from CommonJS', () => {
  writeFileSync(join(app, 'esm.mjs'), `import { Celery, defineTask } from 'celery-gen';\nconsole.log(typeof Celery, typeof defineTask);\n`);
  writeFileSync(join(app, 'cjs.cjs'), `const { Celery, defineTask } = require('celery-gen');\nconsole.log(typeof Celery, typeof defineTask);\n`);
  assert.equal(node(['esm.mjs']).trim(), 'function function');
  assert.equal(node(['cjs.cjs']).trim(), 'function function');
});

test('no dev-only package is installed; size and package count reported', (t) => {
  const modules = join(app, 'node_modules');
  for (const dev of ['ts-morph', '@ts-morph/common', 'typescript', 'tsx', 'esbuild', 'fast-check']) {
    assert.equal(existsSync(join(modules, dev)), false, `${dev} was installed with --omit=dev`);
  }
  // npm's own record of what it installed (nested copies included), celery-gen itself among them.
  const lock = JSON.parse(readFileSync(join(modules, '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const packages = Object.keys(lock.packages).filter((key) => key.startsWith('node_modules/')).length;
  const kib = Number(execFileSync('du', ['-sk', modules], { encoding: 'utf8' }).split('\t')[0]);
  t.diagnostic(`installed: ${(kib / 1024).toFixed(1)} MiB in ${packages} packages (du -sk node_modules)`);
  // Before ts-morph left `dependencies` this was 42 MB in 49 packages; the config mode's
  // lilconfig, tinyglobby and chokidar (with their own dependencies) add six small ones. A
  // bound under that catches a heavy dependency (ts-morph alone brings 11) sneaking back in.
  assert.ok(packages <= 46, `${packages} packages installed`);
  assert.ok(kib < 34 * 1024, `${kib} KiB installed`);
});
