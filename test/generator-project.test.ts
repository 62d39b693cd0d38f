/**
 * Reading whole projects: which files a run follows (and which it does not), each parsed
 * once; constants and names resolved across modules; the app's routes with Celery 5's
 * rules; unresolvable names and options reported with their positions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateFiles, inspectFiles } from '../generator/index.js';
import { loadProject } from '../generator/project.js';
import { FIXTURES_DIR, ROOT_DIR } from './support/generator-fixtures.js';

const BIN = join(ROOT_DIR, 'bin/celery-gen.js');
const PROJECT = join(FIXTURES_DIR, 'project');

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cg-gen-project-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string>): string {
  const d = tree(files);
  dirs.push(d);
  return d;
}

describe('following imports', () => {
  test('the fixture project: package chains, imports, relative imports, re-exports and the config module, each file once', () => {
    const p = loadProject(['proj/billing/tasks.py', 'proj/mail/tasks.py', 'proj/reports/tasks.py'], { cwd: PROJECT, root: '.' });
    const rel = p.filesRead.map((f) => f.slice(PROJECT.length + 1));
    assert.deepEqual(rel.slice(0, 3), ['proj/billing/tasks.py', 'proj/mail/tasks.py', 'proj/reports/tasks.py']);
    assert.deepEqual(
      [...rel].sort(),
      [
        'proj/__init__.py',
        'proj/billing/__init__.py',
        'proj/billing/tasks.py',
        'proj/celery.py',
        'proj/celeryconfig.py',
        'proj/constants.py',
        'proj/mail/__init__.py',
        'proj/mail/tasks.py',
        'proj/reports/__init__.py',
        'proj/reports/tasks.py',
        'proj/schemas/__init__.py',
        'proj/schemas/ids.py',
        'proj/schemas/models.py',
      ],
    );
    assert.ok(p.filesRead.every((f) => f.startsWith('/')), 'absolute paths');
    assert.equal(new Set(p.filesRead).size, p.filesRead.length, 'no file read twice');
    // proj/mail/__init__.py and proj/reports/__init__.py are blank: read, with nothing to parse.
    const blank = p.filesRead.filter((f) => readFileSync(f, 'utf8').trim() === '').length;
    assert.equal(blank, 2);
    assert.equal(p.parses, p.filesRead.length - blank, 'each file parsed once');
    // Followed modules give types and constants, never tasks.
    assert.ok(p.followed.every((m) => m.tasks.length === 0));
  });

  test('generateFiles reports filesRead; in-memory generate reads nothing', () => {
    const r = generateFiles(['proj/reports/tasks.py'], { cwd: PROJECT, root: '.' });
    assert.ok(r.filesRead.includes(join(PROJECT, 'proj/constants.py')));
    assert.ok(r.filesRead.includes(join(PROJECT, 'proj/reports/tasks.py')));
    assert.ok(!r.filesRead.includes(join(PROJECT, 'proj/billing/tasks.py')), 'a sibling nobody imports is not read');
  });

  test('stdlib and third-party imports, and files outside the root, are not followed and not errors', () => {
    const dir = project({
      'outside.py': 'X = 1\n',
      'app/pkg/__init__.py': '',
      'app/pkg/tasks.py': 'import os\nimport requests\nfrom celery import shared_task\nfrom outside import X\nfrom .missing import Y\n\n@shared_task\ndef t(a: int) -> int: ...\n',
    });
    const r = generateFiles(['app/pkg/tasks.py'], { cwd: dir });
    assert.deepEqual(r.diagnostics, []);
    // Default root: the top of the input's package (app/, which holds pkg/): outside.py is above it.
    assert.deepEqual(r.filesRead, [join(dir, 'app/pkg/tasks.py'), join(dir, 'app/pkg/__init__.py')]);
    assert.equal(r.manifest.tasks[0]!.name, 'pkg.tasks.t');
  });

  test('import cycles and a module imported by many are read once', () => {
    const dir = project({
      'p/__init__.py': 'from .a import A\n',
      'p/a.py': 'from .b import B\nA = "a"\n',
      'p/b.py': 'from .a import A\nfrom . import shared\nB = A + "b"\n',
      'p/shared.py': 'from typing import TypedDict\nclass S(TypedDict):\n    x: int\n',
      'p/t1.py': 'from celery import shared_task\nfrom p.b import B\nfrom p.shared import S\n@shared_task(queue=B)\ndef one(s: S) -> None: ...\n',
      'p/t2.py': 'from celery import shared_task\nfrom .shared import S\nfrom .a import A\n@shared_task(queue=A)\ndef two(s: S) -> None: ...\n',
    });
    const p = loadProject(['p/t1.py', 'p/t2.py'], { cwd: dir });
    assert.equal(p.filesRead.length, 6);
    assert.equal(p.parses, 6);
    const r = generateFiles(['p/t1.py', 'p/t2.py'], { cwd: dir });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.manifest.tasks.map((t) => t.options['queue']), ['ab', 'a']);
    assert.deepEqual(r.manifest.types.map((t) => t.name), ['S']);
  });

  test('a star import without __all__ brings public names only; with __all__, only those listed', () => {
    const dir = project({
      'q/__init__.py': 'from .defs import *\nfrom .listed import *\n',
      'q/defs.py': 'PUBLIC = "pub"\n_PRIVATE = "priv"\n',
      'q/listed.py': '__all__ = ["SHOWN"]\nSHOWN = "shown"\nHIDDEN = "hidden"\n',
      'q/tasks.py':
        'from celery import shared_task\nfrom q import PUBLIC, _PRIVATE, SHOWN, HIDDEN\n' +
        '@shared_task(queue=PUBLIC)\ndef a() -> None: ...\n@shared_task(queue=_PRIVATE)\ndef b() -> None: ...\n' +
        '@shared_task(queue=SHOWN)\ndef c() -> None: ...\n@shared_task(queue=HIDDEN)\ndef d() -> None: ...\n',
    });
    const r = generateFiles(['q/tasks.py'], { cwd: dir });
    assert.deepEqual(r.manifest.tasks.map((t) => t.options['queue']), ['pub', '_PRIVATE', 'shown', 'HIDDEN']);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.line, d.column, d.severity, d.code]),
      [
        [5, 20, 'warning', 'unresolved-option'],
        [9, 20, 'warning', 'unresolved-option'],
      ],
    );
  });

  test('a name bound to another name (QUEUE = BASE) is a constant where a value is written and an alias where a type is', () => {
    const dir = project({
      'c/__init__.py': '',
      'c/constants.py': "BASE = 'reports'\nQUEUE = BASE\nNAME = QUEUE\nOrderId = int\n",
      'c/tasks.py':
        'from celery import shared_task\nfrom c.constants import QUEUE, NAME, OrderId\n' +
        "@shared_task(queue=QUEUE, name=NAME + '.run')\ndef run(order: OrderId) -> OrderId: ...\n",
    });
    const r = generateFiles(['c/tasks.py'], { cwd: dir });
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.manifest.tasks[0]!.options['queue'], 'reports');
    assert.equal(r.manifest.tasks[0]!.name, 'reports.run');
    assert.equal(r.manifest.tasks[0]!.params[0]!.tsType, 'number');
  });
});

test('a syntax error in a followed module is a warning there; a relative import above the top package is ignored', () => {
  const dir = project({
    'z/__init__.py': '',
    'z/broken.py': 'QUEUE = "q"\ndef oops(:\n',
    'z/tasks.py': 'from celery import shared_task\nfrom .broken import QUEUE\nfrom ... import nothing\n@shared_task(queue=QUEUE)\ndef t() -> None: ...\n',
  });
  const r = generateFiles(['z/tasks.py'], { cwd: dir });
  assert.notEqual(r.text, null);
  assert.deepEqual(r.diagnostics.map((d) => [d.file, d.line, d.severity, d.code]), [['z/broken.py', 2, 'warning', 'syntax-error']]);
  assert.match(r.diagnostics[0]!.message, /in an imported module/);
  assert.equal(r.manifest.tasks[0]!.options['queue'], 'q');
});

describe('unresolvable names and options', () => {
  const dir = join(FIXTURES_DIR, 'unresolved-name');

  test('name=: an error at the expression for that task alone; exit 2 and nothing written', () => {
    const out = join(project({}), 'out.ts');
    const r = spawnSync(process.execPath, [BIN, 'tasks.py', '-o', out], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(existsSync(out), false);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^tasks\.py:14:19: error: task name of 'refund' cannot be resolved: 'NAMES\.REFUND'/);
    assert.match(lines[1]!, /^tasks\.py:18:19: error: task name of 'computed' cannot be resolved: 'compute_name\(\)'/);
    assert.match(lines[2]!, /^tasks\.py:22:19: error: task name of 'missing' cannot be resolved: 'f'\{MISSING\}\.x'' \('MISSING' cannot be resolved\)/);
  });

  test('inspect --json is a report: exit 0, the other tasks listed, this one with a null name and the error', () => {
    const r = spawnSync(process.execPath, [BIN, 'inspect', '--json', 'tasks.py'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as { tasks: { name: string | null; function: string }[]; diagnostics: { code: string; line: number; column: number }[] };
    assert.deepEqual(m.tasks.map((t) => [t.function, t.name]), [['fine', 'tasks.fine'], ['refund', null], ['computed', null], ['missing', null]]);
    assert.deepEqual(m.diagnostics.map((d) => [d.code, d.line, d.column]), [['non-literal-name', 14, 19], ['non-literal-name', 18, 19], ['non-literal-name', 22, 19]]);
  });

  test('other options and routes: warnings at the expression; generation still succeeds', () => {
    const r = inspectFiles(['tasks.py'], { cwd: join(FIXTURES_DIR, 'unresolved-options') });
    assert.deepEqual(
      r.manifest.diagnostics.map((d) => [d.line, d.column, d.endColumn, d.severity, d.code]),
      [
        [9, 16, 26, 'warning', 'unresolved-route'],
        [11, 5, 24, 'warning', 'unresolved-route'],
        [15, 20, 48, 'warning', 'unresolved-option'],
        [19, 23, 31, 'warning', 'unresolved-option'],
        [19, 45, 50, 'warning', 'unresolved-option'],
      ],
    );
    assert.match(r.manifest.diagnostics[2]!.message, /option queue= of 'from_env' cannot be resolved: 'os\.environ\.get\('QUEUE', 'q'\)'; the TypeScript side will not route by it/);
    const g = generateFiles(['tasks.py'], { cwd: join(FIXTURES_DIR, 'unresolved-options') });
    assert.notEqual(g.text, null);
    assert.match(g.text!, /fromEnv: defineTask[^\n]*\n(?:[^\n]*\n){3}    options: \{\},\n  \}\),/);
  });

  test('a name that is a non-string literal is an error too', () => {
    const dir2 = project({ 't.py': 'from celery import shared_task\nN = 3\n@shared_task(name=N)\ndef x() -> None: ...\n' });
    const r = generateFiles(['t.py'], { cwd: dir2 });
    assert.equal(r.text, null);
    assert.deepEqual(r.diagnostics.map((d) => [d.line, d.code]), [[4, 'non-literal-name']]);
  });
});

describe('app configuration', () => {
  test('proj/__init__.py → proj/celery.py, config_from_object, and explicit app.conf winning over the config module', () => {
    const dir = project({
      'proj/__init__.py': 'from .celery import app\n',
      'proj/celery.py':
        "from celery import Celery\napp = Celery('proj')\napp.config_from_object('proj.settings')\napp.conf.task_default_queue = 'explicit'\n",
      'proj/settings.py': "task_default_queue = 'from_settings'\ntask_routes = {'proj.tasks.*': {'queue': 'routed', 'priority': 3}}\n",
      'proj/tasks.py': 'from celery import shared_task\n@shared_task\ndef a() -> None: ...\n',
      'proj/other.py': 'from celery import shared_task\n@shared_task\ndef b() -> None: ...\n',
    });
    const r = generateFiles(['proj/tasks.py', 'proj/other.py'], { cwd: dir });
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.manifest.defaultQueue, 'explicit');
    assert.deepEqual(r.manifest.tasks.map((t) => t.route), [{ queue: 'routed', priority: 3 }, null]);
    assert.match(r.text!, /route: \{ queue: 'routed', priority: 3 \},\n\s+defaultQueue: 'explicit',/);
  });

  test('a config module given as an imported module object, and a regex route with IGNORECASE', () => {
    const dir = project({
      'svc/__init__.py': '',
      'svc/conf.py': "import re\nROUTES = {re.compile(r'SVC\\.', re.IGNORECASE): 'ci'}\ntask_routes = ROUTES\n",
      'svc/app.py': 'from celery import Celery\nfrom svc import conf\napp = Celery()\napp.config_from_object(conf)\n',
      'svc/tasks.py': 'from celery import shared_task\nimport svc.app\n@shared_task\ndef a() -> None: ...\n',
    });
    const r = generateFiles(['svc/tasks.py'], { cwd: dir });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.manifest.tasks[0]!.route, { queue: 'ci' });
  });

  test("Django: 'django.conf:settings' with namespace='CELERY' reads CELERY_TASK_ROUTES from the module DJANGO_SETTINGS_MODULE names, through its star imports", () => {
    const dir = project({
      'proj/__init__.py': 'from .celery import app as celery_app\n\n__all__ = ("celery_app",)\n',
      'proj/celery.py': [
        'import os',
        'from celery import Celery',
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings.production')",
        "app = Celery('proj')",
        "app.config_from_object('django.conf:settings', namespace='CELERY')",
        'app.autodiscover_tasks()',
        '',
      ].join('\n'),
      'proj/settings/__init__.py': '',
      'proj/settings/base.py': "INSTALLED_APPS = ['proj.orders']\nCELERY_TASK_ROUTES = {'proj.orders.tasks.*': {'queue': 'orders'}}\n# Without the namespace, Celery would read this one instead:\ntask_routes = {'proj.orders.tasks.*': {'queue': 'unprefixed'}}\n",
      'proj/settings/production.py': "from .base import *  # noqa\nCELERY_TASK_DEFAULT_QUEUE = 'web'\n",
      'proj/orders/__init__.py': '',
      'proj/orders/tasks.py': 'from celery import shared_task\n@shared_task\ndef ship(order_id: int) -> None: ...\n',
    });
    const r = generateFiles(['proj/orders/tasks.py'], { cwd: dir });
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.manifest.defaultQueue, 'web');
    assert.deepEqual(r.manifest.tasks[0]!.route, { queue: 'orders' });
    assert.ok(r.filesRead.some((f) => f.endsWith(join('proj', 'settings', 'production.py'))));
  });

  test("Celery's own lookup order: namespaced name, then the plain name, then Celery 3's name; a lower-case namespace reads lower-case names", async () => {
    const { settingNames } = await import('../generator/app-config.js');
    assert.deepEqual(settingNames('task_routes', 'CELERY'), ['CELERY_TASK_ROUTES', 'task_routes', 'CELERY_ROUTES']);
    assert.deepEqual(settingNames('task_default_queue', 'CELERY__'), ['CELERY_TASK_DEFAULT_QUEUE', 'task_default_queue', 'CELERY_DEFAULT_QUEUE']);
    assert.deepEqual(settingNames('task_routes', 'svc'), ['svc_task_routes', 'task_routes', 'CELERY_ROUTES']);
    assert.deepEqual(settingNames('task_routes', null), ['task_routes', 'CELERY_ROUTES']);
    const dir = project({
      'app.py': "from celery import Celery\napp = Celery('a', namespace='svc')\napp.config_from_object('conf')\n",
      'conf.py': "svc_task_routes = {'tasks.*': 'svc-q'}\nCELERY_DEFAULT_QUEUE = 'old-style'\n",
      'tasks.py': 'from app import app\n@app.task\ndef a() -> None: ...\n',
    });
    const r = generateFiles(['tasks.py'], { cwd: dir, root: '.' });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.manifest.tasks[0]!.route, { queue: 'svc-q' });
    assert.equal(r.manifest.defaultQueue, 'old-style');
  });

  test('a config class, by name and by import string', () => {
    const dir = project({
      'app.py': "from celery import Celery\nfrom config import Config\napp = Celery('a')\napp.config_from_object(Config)\n",
      'config.py': "class Config:\n    task_routes = {'tasks.a': 'from-class'}\n    task_default_queue = 'cls'\n",
      'app2.py': "from celery import Celery\napp = Celery('b')\napp.config_from_object('config:Config')\n",
      'tasks.py': 'from app import app\n@app.task\ndef a() -> None: ...\n',
      'tasks2.py': 'from app2 import app\n@app.task\ndef a() -> None: ...\n',
    });
    for (const input of ['tasks.py', 'tasks2.py']) {
      const r = generateFiles([input], { cwd: dir, root: '.' });
      assert.deepEqual(r.diagnostics, [], input);
      assert.equal(r.manifest.defaultQueue, 'cls', input);
      assert.deepEqual(r.manifest.tasks[0]!.route, input === 'tasks.py' ? { queue: 'from-class' } : null, input);
    }
  });

  test('--app names the app module when no input imports it (Django apps with shared_task): proj, then proj.celery, as celery -A looks', () => {
    const files = {
      'manage.py': "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n",
      'proj/__init__.py': '',
      'proj/celery.py':
        "import os\nfrom celery import Celery\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\napp = Celery('proj')\napp.config_from_object('django.conf:settings', namespace='CELERY')\n",
      'proj/settings.py': "CELERY_TASK_ROUTES = {'orders.tasks.*': {'queue': 'orders'}}\n",
      'orders/__init__.py': '',
      'orders/tasks.py': 'from celery import shared_task\n@shared_task\ndef ship(order_id: int) -> None: ...\n',
    };
    const dir = project(files);
    const without = generateFiles(['orders/tasks.py'], { cwd: dir });
    assert.deepEqual(without.diagnostics, []);
    assert.equal(without.manifest.tasks[0]!.route, null);
    const withApp = generateFiles(['orders/tasks.py'], { cwd: dir, app: 'proj' });
    assert.deepEqual(withApp.diagnostics, []);
    assert.deepEqual(withApp.manifest.tasks[0]!.route, { queue: 'orders' });
    assert.ok(withApp.filesRead.some((f) => f.endsWith(join('proj', 'settings.py'))));
    // The CLI's -A, and a config's per-output `app`, say the same.
    const cli = spawnSync(process.execPath, [BIN, 'orders/tasks.py', '-A', 'proj'], { cwd: dir, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /route: \{ queue: 'orders' \}/);
    writeFileSync(join(dir, 'celery-gen.config.json'), JSON.stringify({ outputs: [{ output: 'out.ts', inputs: ['orders/tasks.py'], app: 'proj.celery' }] }));
    const viaConfig = spawnSync(process.execPath, [BIN], { cwd: dir, encoding: 'utf8' });
    assert.equal(viaConfig.status, 0, viaConfig.stderr);
    assert.match(readFileSync(join(dir, 'out.ts'), 'utf8'), /route: \{ queue: 'orders' \}/);
  });

  test('--app naming no module is an error at the first input, and nothing is generated', () => {
    const dir = project({ 'tasks.py': 'from celery import shared_task\n@shared_task\ndef a() -> None: ...\n' });
    const r = generateFiles(['tasks.py'], { cwd: dir, root: '.', app: 'nowhere' });
    assert.equal(r.text, null);
    assert.deepEqual(r.diagnostics.map((d) => [d.file, d.severity, d.code]), [['tasks.py', 'error', 'app-not-found']]);
    assert.match(r.diagnostics[0]!.message, /--app nowhere: neither nowhere nor nowhere\.celery is a module under the import root \(\.\)/);
  });

  test('a config object that cannot be found is a warning at it, never a silent drop', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { 'app.py': "from celery import Celery\napp = Celery('a')\napp.config_from_object('django.conf:settings', namespace='CELERY')\n" },
        /the Django settings module behind 'django\.conf:settings' is not named in app\.py \(no os\.environ\.setdefault\('DJANGO_SETTINGS_MODULE', \.\.\.\)\); its task_routes and task_default_queue are not read/,
      ],
      [
        { 'app.py': "import os\nfrom celery import Celery\nos.environ['DJANGO_SETTINGS_MODULE'] = 'site.settings'\napp = Celery('a')\napp.config_from_object('django.conf:settings')\n" },
        /the Django settings module 'site\.settings' was not found under the import root/,
      ],
      [
        { 'app.py': "import os\nfrom celery import Celery\nSETTINGS = 'settings'\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', SETTINGS)\napp = Celery('a')\napp.config_from_object('django.conf:settings')\n", 'settings.py': "CELERY_TASK_ROUTES = {}\n" },
        /the Django settings module 'settings' is named through 'SETTINGS', which is not followed to read it; write the name as a string/,
      ],
      [{ 'app.py': "from celery import Celery\napp = Celery('a')\napp.config_from_object('celeryconfig')\n" }, /config object 'celeryconfig' is not a module or class among the modules read/],
      [{ 'app.py': "from celery import Celery\napp = Celery('a')\napp.config_from_object(load())\n" }, /config object 'load\(\)' cannot be resolved/],
    ];
    for (const [files, message] of cases) {
      const dir = project({ ...files, 'tasks.py': 'from app import app\n@app.task\ndef a() -> None: ...\n' });
      const r = generateFiles(['tasks.py'], { cwd: dir, root: '.' });
      assert.equal(r.diagnostics.length, 1, JSON.stringify(r.diagnostics));
      const [d] = r.diagnostics;
      assert.equal(d!.severity, 'warning');
      assert.equal(d!.file, 'app.py');
      assert.equal(d!.line, files['app.py']!.split('\n').findIndex((l) => l.includes('config_from_object')) + 1);
      assert.match(d!.message, message);
      assert.ok(r.text !== null, 'a warning must not stop generation');
    }
  });
});

test('a version-1 model.json (no route, no defaultQueue) still emits', async () => {
  const { emit } = await import('../generator/emit.js');
  const v1 = JSON.parse(readFileSync(join(FIXTURES_DIR, 'basic/model.json'), 'utf8')) as Record<string, unknown>;
  delete v1['defaultQueue'];
  for (const t of v1['tasks'] as Record<string, unknown>[]) delete t['route'];
  const golden = readFileSync(join(FIXTURES_DIR, 'basic/tasks.ts'), 'utf8');
  assert.equal(emit({ ...(v1 as object), version: 1 } as never, { sources: ['tasks.py'] }), golden);
});
