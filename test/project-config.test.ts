/**
 * The config file through the real CLI: discovery in each form, CLI flags over config
 * keys, every config error with its message and position, `init` on a Django-like tree,
 * and `--check` over several outputs.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BIN, runCli, runCliAsNobody, taskSource, writeTree } from './support/project-tree.js';

const work = mkdtempSync(join(tmpdir(), 'celery-gen-config-'));
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function project(files: Readonly<Record<string, string>>): string {
  const dir = join(work, `p${n++}`);
  writeTree(dir, { 'media/tasks.py': taskSource('resize'), 'billing/tasks.py': taskSource('charge'), ...files });
  return dir;
}

const ALL_JSON = JSON.stringify({ outputs: [{ output: 'src/all.ts', inputs: ['**/tasks.py'] }] }, null, 2);

function taskNames(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/name: '(\w+(?:\.\w+)+)'/g)].map((m) => m[1]!).filter((v, i, a) => a.indexOf(v) === i);
}

test('celery-gen.config.json is found from a subfolder; paths are relative to it and module names follow its folder without __init__.py', () => {
  const dir = project({ 'celery-gen.config.json': ALL_JSON, 'media/sub/.keep': '' });
  const r = runCli([], join(dir, 'media/sub'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote \.\.\/\.\.\/src\/all\.ts/);
  assert.deepEqual(taskNames(join(dir, 'src/all.ts')), ['billing.tasks.charge', 'media.tasks.resize']);
  // An unchanged output is not rewritten.
  const before = statSync(join(dir, 'src/all.ts')).mtimeMs;
  const again = runCli([], dir);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stderr, '');
  assert.equal(statSync(join(dir, 'src/all.ts')).mtimeMs, before);
});

test('celery-gen.config.mjs and .js (default export) and a "celery-gen" key in package.json are found too', () => {
  const mjs = project({ 'celery-gen.config.mjs': `export default { root: 'media', outputs: [{ output: 'out/m.ts', inputs: ['media/*.py'] }] };\n` });
  const r1 = runCli([], mjs);
  assert.equal(r1.status, 0, r1.stderr);
  assert.deepEqual(taskNames(join(mjs, 'out/m.ts')), ['tasks.resize']);

  const pkg = project({ 'package.json': JSON.stringify({ name: 'x', 'celery-gen': { outputs: [{ output: 'gen/b.ts', inputs: ['billing/tasks.py'] }] } }) });
  const r2 = runCli([], join(pkg, 'billing'));
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(taskNames(join(pkg, 'gen/b.ts')), ['billing.tasks.charge']);

  const js = project({ 'celery-gen.config.js': `module.exports = { outputs: [{ output: 'out/b.ts', inputs: ['billing/*.py'] }] };\n` });
  const r4 = runCli([], js);
  assert.equal(r4.status, 0, r4.stderr);
  assert.deepEqual(taskNames(join(js, 'out/b.ts')), ['billing.tasks.charge']);

  // A package.json without the key is passed over on the way up.
  const nested = project({ 'celery-gen.config.json': ALL_JSON, 'media/package.json': '{"name": "media"}' });
  const r3 = runCli([], join(nested, 'media'));
  assert.equal(r3.status, 0, r3.stderr);
  assert.ok(existsSync(join(nested, 'src/all.ts')));
});

test('CLI flags override the config, and --config names the file explicitly', () => {
  const dir = project({
    'celery-gen.config.json': ALL_JSON,
    'ci/other.json': JSON.stringify({ outputs: [{ output: '../out/media.ts', inputs: ['../media/tasks.py'], root: '../media' }] }),
  });
  const r1 = runCli(['--root', 'billing', '--config', 'ci/other.json'], dir);
  assert.equal(r1.status, 2, 'media/tasks.py is not under --root billing');
  assert.match(r1.stderr, /media\/tasks\.py:1:1: error: file is not under --root/);
  const r2 = runCli(['--config', 'ci/other.json'], dir);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(taskNames(join(dir, 'out/media.ts')), ['tasks.resize'], "the output's root, relative to the config's folder");
  assert.equal(existsSync(join(dir, 'src/all.ts')), false, 'the discovered config was used instead');
  const r3 = runCli(['--config', 'ci/other.json', '--root', '.'], dir);
  assert.equal(r3.status, 0, r3.stderr);
  assert.deepEqual(taskNames(join(dir, 'out/media.ts')), ['media.tasks.resize'], '--root (relative to the working directory) beats the config');
  const r4 = runCli(['--module', 'jobs.images', '--config', 'ci/other.json'], dir);
  assert.equal(r4.status, 0, r4.stderr);
  assert.deepEqual(taskNames(join(dir, 'out/media.ts')), ['jobs.images.resize']);
});

test('each config error exits 2 naming the config path, with its line in JSON', () => {
  const cases: [files: Record<string, string>, args: string[], expected: RegExp][] = [
    [{ 'celery-gen.config.json': '{\n  "outputs": [\n    { "output": "a.ts", "inputs": ["**/tasks.py"], "exlude": [] }\n  ]\n}\n' }, [], /^celery-gen\.config\.json:3:52: error: unknown key 'exlude' in outputs\[0\] \(allowed: output, inputs, exclude, module, app, root\)\n$/],
    [{ 'celery-gen.config.json': '{\n  "root": ".",\n  "colour": 1,\n  "outputs": [{ "output": "a.ts", "inputs": ["**/tasks.py"] }]\n}\n' }, [], /^celery-gen\.config\.json:3:3: error: unknown key 'colour' \(allowed: root, outputs\)\n$/],
    [{ 'celery-gen.config.json': '{\n  "outputs": [\n    { "output": "a.ts",\n      "inputs": "**/tasks.py" }\n  ]\n}\n' }, [], /^celery-gen\.config\.json:4:17: error: outputs\[0\]\.inputs must be an array of strings, not a string\n$/],
    [{ 'celery-gen.config.json': '{ "root": true, "outputs": [{ "output": "a.ts", "inputs": ["x.py"], "module": 3 }] }' }, [], /^celery-gen\.config\.json:1:11: error: root must be a string, not boolean true\ncelery-gen\.config\.json:1:79: error: outputs\[0\]\.module must be a string, not number 3\n$/],
    [{ 'celery-gen.config.json': '{\n  "outputs": [\n    { "output": "a.ts", "inputs": ["media/tasks.py", "shop/**/tasks.py"] }\n  ]\n}\n' }, [], /^celery-gen\.config\.json:3:54: error: 'shop\/\*\*\/tasks\.py' matches no file under \.\n$/],
    [{ 'celery-gen.config.json': '{ "outputs": [{ "output": "a.ts", "inputs": ["media/tasks.py"], "exclude": ["media/**"] }] }' }, [], /^celery-gen\.config\.json:1:46: error: 'media\/tasks\.py' matches no file \(after exclude\) under \.\n$/],
    [{ 'celery-gen.config.json': '{\n  "outputs": [\n    { "output": "a.ts", }\n  ]\n}\n' }, [], /^celery-gen\.config\.json:3:25: error: invalid JSON: /],
    [{ 'celery-gen.config.json': '{ "outputs": [] }' }, [], /^celery-gen\.config\.json:1:14: error: outputs is empty/],
    [{ 'package.json': '{\n  "name": "x",\n  "celery-gen": { "outputs": [{ "output": 5, "inputs": ["media/tasks.py"] }] }\n}\n' }, [], /^package\.json:3:43: error: outputs\[0\]\.output must be a file path, not number 5\n$/],
    [{ 'celery-gen.config.mjs': 'export default { outputs: [{ output: "a.ts", inputs: ["media/tasks.py"], watch: true }] };\n' }, [], /^celery-gen\.config\.mjs: error: unknown key 'watch' in outputs\[0\]/],
    [{ 'celery-gen.config.mjs': 'export default { outputs: [{ output: "a.ts", inputs: [ };\n' }, [], /^celery-gen\.config\.mjs: error: cannot load the config: Unexpected token '}'\n$/],
    [{}, ['--config', 'nope.json'], /^nope\.json: error: no such config file\n$/],
  ];
  for (const [files, args, expected] of cases) {
    const dir = project(files);
    const r = runCli(args, dir);
    assert.equal(r.status, 2, `${JSON.stringify(files)}\n${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.equal(existsSync(join(dir, 'a.ts')), false, 'nothing is generated from a bad config');
  }
  const none = runCli([], mkdtempSync(join(work, 'empty-')));
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no input files, and no config file .*\nRun celery-gen init/);
});

test('init finds the task modules of a Django-like tree, skipping the virtualenv, node_modules, migrations and tests; then celery-gen generates them', () => {
  const dir = join(work, 'mysite');
  writeTree(dir, {
    'manage.py': 'import os\n',
    'mysite/settings.py': 'INSTALLED_APPS = []\n',
    'mysite/celery.py': "from celery import Celery\napp = Celery('mysite')\n",
    'orders/__init__.py': '',
    'orders/tasks.py': taskSource('place_order'),
    'orders/migrations/tasks.py': taskSource('migrate'),
    'orders/tests/tasks.py': taskSource('fake'),
    'shipping/tasks.py': taskSource('ship'),
    // A virtualenv not named venv: found by its pyvenv.cfg.
    'env/pyvenv.cfg': 'home = /usr/bin\n',
    'env/lib/python3.11/site-packages/celery/app/tasks.py': taskSource('celery_internal'),
    '.venv/lib/tasks.py': taskSource('other_venv'),
    'frontend/node_modules/pkg/tasks.py': taskSource('js'),
    'shipping/jobs_email.py': taskSource('email'),
  });
  const r = runCli(['init'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^found 2 task modules:\n {2}orders\/tasks\.py\n {2}shipping\/tasks\.py\nthe Celery app: mysite \(mysite\/celery\.py\); its task_routes and task_default_queue are read too\n/);
  assert.match(r.stderr, /skipped 5 folders .*: \.venv, env, frontend\/node_modules, orders\/migrations, orders\/tests\n/);
  const config = JSON.parse(readFileSync(join(dir, 'celery-gen.config.json'), 'utf8')) as unknown;
  assert.deepEqual(config, { outputs: [{ output: 'src/tasks.ts', inputs: ['orders/tasks.py', 'shipping/tasks.py'], app: 'mysite' }] });

  const gen = runCli([], dir);
  assert.equal(gen.status, 0, gen.stderr);
  assert.deepEqual(taskNames(join(dir, 'src/tasks.ts')), ['orders.tasks.place_order', 'shipping.tasks.ship']);

  const again = runCli(['init'], dir);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /celery-gen\.config\.json already exists; pass --force to overwrite it/);
  assert.equal(readFileSync(join(dir, 'celery-gen.config.json'), 'utf8'), `${JSON.stringify(config, null, 2)}\n`);

  const forced = runCli(['init', '--force', '--pattern', 'jobs_*.py', '-o', 'src/jobs.ts'], dir);
  assert.equal(forced.status, 0, forced.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'celery-gen.config.json'), 'utf8')), { outputs: [{ output: 'src/jobs.ts', inputs: ['shipping/jobs_email.py'], app: 'mysite' }] });
  // Two app modules: neither is guessed; init says so.
  writeTree(dir, { 'other/celery.py': "from celery import Celery\napp = Celery('other')\n" });
  const two = runCli(['init', '--force'], dir);
  assert.equal(two.status, 0, two.stderr);
  assert.match(two.stderr, /several Celery app modules \(mysite\/celery\.py, other\/celery\.py\): set "app" in the config/);
  assert.equal((JSON.parse(readFileSync(join(dir, 'celery-gen.config.json'), 'utf8')) as { outputs: { app?: string }[] }).outputs[0]!.app, undefined);

  const nothing = runCli(['init', '--pattern', 'celery_tasks.py', '--force'], dir);
  assert.equal(nothing.status, 2);
  assert.match(nothing.stderr, /no file named celery_tasks\.py under/);
});

test('--check over several outputs: exit 1 with one diff per stale or missing output, nothing written', () => {
  const dir = project({
    'mail/tasks.py': taskSource('send'),
    'celery-gen.config.json': JSON.stringify({
      outputs: [
        { output: 'src/media.ts', inputs: ['media/tasks.py'] },
        { output: 'src/billing.ts', inputs: ['billing/tasks.py'] },
        { output: 'src/mail.ts', inputs: ['mail/tasks.py'] },
      ],
    }),
  });
  const missing = runCli(['--check'], dir);
  assert.equal(missing.status, 1);
  assert.equal(missing.stdout.match(/^--- \/dev\/null$/gm)?.length, 3);
  assert.equal(existsSync(join(dir, 'src')), false, '--check wrote something');

  assert.equal(runCli([], dir).status, 0);
  const current = runCli(['--check'], dir);
  assert.equal(current.status, 0, current.stderr);
  assert.equal(current.stdout, '');

  writeFileSync(join(dir, 'billing/tasks.py'), taskSource('charge', 'str'));
  rmSync(join(dir, 'src/mail.ts'));
  const stale = runCli(['--check'], dir);
  assert.equal(stale.status, 1);
  assert.match(stale.stderr, /src\/billing\.ts is out of date/);
  assert.match(stale.stderr, /src\/mail\.ts is missing/);
  assert.doesNotMatch(stale.stderr, /media/);
  assert.match(stale.stdout, /^--- src\/billing\.ts \(on disk\)\n\+\+\+ src\/billing\.ts \(generated\)\n/m);
  assert.match(stale.stdout, /^-.*x: number/m);
  assert.match(stale.stdout, /^\+.*x: string/m);
  assert.match(stale.stdout, /^--- \/dev\/null\n\+\+\+ src\/mail\.ts \(generated\)/m);

  // A syntax error outranks staleness: exit 2.
  writeFileSync(join(dir, 'media/tasks.py'), 'def broken(:\n');
  const broken = runCli(['--check'], dir);
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /media\/tasks\.py:1:12: error: /);
});

test('a plain generate run loads none of the config-mode libraries (lilconfig, tinyglobby, chokidar)', () => {
  const dir = project({ 'celery-gen.config.json': ALL_JSON });
  const log = join(dir, 'loaded.txt');
  // Hooks that note every file the CLI loads: an ESM resolve hook for import(), and a
  // CommonJS one for require() (the bundled CLI is CommonJS and requires its libraries).
  writeFileSync(join(dir, 'hook.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)});\n`);
  writeFileSync(join(dir, 'hook.cjs'), `const M = require('node:module'); const { appendFileSync } = require('node:fs'); const r = M._resolveFilename; M._resolveFilename = function (...a) { const f = r.apply(this, a); appendFileSync(${JSON.stringify(log)}, f + '\\n'); return f; };\n`);
  const loaded = (args: string[]) => {
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--require', join(dir, 'hook.cjs'), '--import', join(dir, 'register.mjs'), BIN, ...args], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return [...new Set(readFileSync(log, 'utf8').match(/node_modules\/(chokidar|lilconfig|tinyglobby)\//g) ?? [])].sort();
  };
  assert.deepEqual(loaded(['media/tasks.py', '-o', 'out.ts']), []);
  // The hook does see them when they are needed.
  assert.deepEqual(loaded([]), ['node_modules/lilconfig/', 'node_modules/tinyglobby/']);
});

test('folders and imported modules the user cannot read are reported, not silently passed over', { skip: process.getuid?.() !== 0 && 'needs root, to run the CLI as nobody' }, () => {
  // A folder of its own that nobody may enter; inside it, what nobody may not read.
  const dir = mkdtempSync(join(tmpdir(), 'cg-unreadable-'));
  chmodSync(dir, 0o777);
  writeTree(dir, {
    'app/__init__.py': '',
    'app/constants.py': 'QUEUE = "q"\n',
    'app/tasks.py': 'from celery import shared_task\nfrom .constants import QUEUE\n\n@shared_task(queue=QUEUE)\ndef t() -> None: ...\n',
    'secret/tasks.py': taskSource('hidden'),
  });
  chmodSync(join(dir, 'secret'), 0o700);
  chmodSync(join(dir, 'app/constants.py'), 0o600);
  try {
    const init = runCliAsNobody(['init'], dir);
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stderr, /found 1 task module:\n {2}app\/tasks\.py\n/);
    assert.match(init.stderr, /warning: could not read 1 folder; task modules in them were not found: secret \(permission denied\)/);

    const gen = runCliAsNobody(['app/tasks.py', '-o', 'out.ts'], dir);
    assert.equal(gen.status, 0, gen.stderr);
    assert.match(gen.stderr, /app\/constants\.py:1:1: warning: cannot read imported module app\.constants: permission denied/);
    // And the option it held is said to be unresolved, not dropped.
    assert.match(gen.stderr, /queue.*QUEUE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
