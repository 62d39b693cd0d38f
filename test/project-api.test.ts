/**
 * The programmatic API for build tools: generateProject and watchProject from
 * 'celery-gen/generator', with diagnostics as data and nothing printed; and the
 * extraction cache that makes watch runs incremental.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { build } from 'esbuild';
import { celeryGen } from '../examples/esbuild-plugin.js';
import { ExtractCache } from '../generator/extract-cache.js';
import { type WatchResult, defineConfig, generateFiles, generateProject, watchProject } from '../generator/index.js';
import { taskSource, writeTree } from './support/project-tree.js';

const work = mkdtempSync(join(tmpdir(), 'celery-gen-api-'));
after(() => rmSync(work, { recursive: true, force: true }));

const config = defineConfig({
  outputs: [
    { output: 'src/all.ts', inputs: ['**/tasks.py'] },
    { output: 'src/media.ts', inputs: ['media/tasks.py'], root: 'media' },
  ],
});

function tree(name: string): string {
  const dir = join(work, name);
  writeTree(dir, { 'media/tasks.py': taskSource('resize'), 'billing/tasks.py': taskSource('charge') });
  return dir;
}

test('generateProject writes every output, reports what it read, and leaves unchanged files alone', async () => {
  const dir = tree('gen');
  const first = await generateProject(config, { dir });
  assert.deepEqual(first.diagnostics, []);
  assert.deepEqual(first.outputs.map((o) => [o.output, o.status]), [
    [join(dir, 'src/all.ts'), 'written'],
    [join(dir, 'src/media.ts'), 'written'],
  ]);
  assert.deepEqual(first.outputs[0]!.filesRead, [join(dir, 'billing/tasks.py'), join(dir, 'media/tasks.py')]);
  assert.equal(readFileSync(join(dir, 'src/all.ts'), 'utf8'), first.outputs[0]!.text);
  assert.match(first.outputs[1]!.text!, /name: 'tasks\.resize'/, "the output's own root");

  const mtime = statSync(join(dir, 'src/all.ts')).mtimeMs;
  const second = await generateProject(config, { dir });
  assert.deepEqual(second.outputs.map((o) => o.status), ['unchanged', 'unchanged']);
  assert.equal(statSync(join(dir, 'src/all.ts')).mtimeMs, mtime);

  writeFileSync(join(dir, 'billing/tasks.py'), taskSource('charge', 'str'));
  const checked = await generateProject(config, { dir, check: true });
  assert.deepEqual(checked.outputs.map((o) => o.status), ['stale', 'current']);
  assert.match(checked.outputs[0]!.diff!, /^-.*charge: defineTask<\[x: number\]/m);
  assert.equal(statSync(join(dir, 'src/all.ts')).mtimeMs, mtime, 'check wrote');
});

test('generateProject returns config problems and syntax errors as data', async () => {
  const dir = tree('errors');
  const bad = await generateProject({ outputs: [{ output: 'a.ts', inputs: ['x.py'], flavour: 'mint' }] } as never, { dir });
  assert.deepEqual(bad.outputs, []);
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.file, d.line, d.code, d.message]),
    [['celery-gen config', 0, 'config', "unknown key 'flavour' in outputs[0] (allowed: output, inputs, exclude, module, app, root)"]],
  );
  const empty = await generateProject({ outputs: [{ output: 'a.ts', inputs: ['shop/*.py'] }] }, { dir, cwd: work, source: { path: 'vite.config.ts' } });
  assert.deepEqual(empty.diagnostics.map((d) => [d.file, d.message]), [['vite.config.ts', "'shop/*.py' matches no file under errors"]]);

  writeFileSync(join(dir, 'media/tasks.py'), 'def broken(:\n');
  const broken = await generateProject(config, { dir, cwd: dir });
  assert.deepEqual(broken.outputs.map((o) => o.status), ['failed', 'failed']);
  assert.equal(broken.outputs[0]!.text, null);
  assert.deepEqual(broken.outputs[0]!.diagnostics.map((d) => [d.file, d.line, d.code]), [['media/tasks.py', 1, 'syntax-error']]);
});

test('watchProject reports every run as data and regenerates on a change', async () => {
  const dir = tree('watch');
  const results: WatchResult[] = [];
  let notify: () => void = () => undefined;
  const watcher = await watchProject(config, (r) => {
    results.push(r);
    notify();
  }, { dir });
  try {
    assert.equal(results.length, 1);
    assert.deepEqual(results[0]!.changed, []);
    assert.deepEqual(results[0]!.outputs.map((o) => o.status), ['written', 'written']);
    const next = new Promise<void>((resolve) => (notify = resolve));
    writeFileSync(join(dir, 'billing/tasks.py'), taskSource('charge', 'str'));
    await next;
    const last = results.at(-1)!;
    assert.ok(last.changed.includes(join(dir, 'billing/tasks.py')), String(last.changed));
    // Only the output that read billing/tasks.py ran.
    assert.deepEqual(last.outputs.map((o) => [o.output, o.status]), [[join(dir, 'src/all.ts'), 'written']]);
    assert.match(readFileSync(join(dir, 'src/all.ts'), 'utf8'), /charge: defineTask<\[x: string\]/);
  } finally {
    await watcher.close();
  }
});

test('the extraction cache parses again only the modules whose text changed', () => {
  const dir = tree('cache');
  const cache = new ExtractCache();
  const files = ['media/tasks.py', 'billing/tasks.py'];
  const first = generateFiles(files, { cwd: dir, root: dir, cache });
  assert.equal(cache.misses, 2);
  const again = generateFiles(files, { cwd: dir, root: dir, cache });
  assert.equal(cache.misses, 2);
  assert.equal(again.text, first.text);
  writeFileSync(join(dir, 'media/tasks.py'), taskSource('resize', 'float'));
  const changed = generateFiles(files, { cwd: dir, root: dir, cache });
  assert.equal(cache.misses, 3);
  assert.equal(changed.text, generateFiles(files, { cwd: dir, root: dir }).text, 'a cached run differs from a fresh one');
});

test('watchProject also watches inputs outside the config folder', async () => {
  const dir = join(work, 'outside');
  writeTree(dir, { 'lib/tasks.py': taskSource('shared'), 'app/.keep': '' });
  let notify: () => void = () => undefined;
  const watcher = await watchProject({ root: '..', outputs: [{ output: 'gen.ts', inputs: ['../lib/tasks.py'] }] }, () => notify(), { dir: join(dir, 'app') });
  try {
    assert.match(readFileSync(join(dir, 'app/gen.ts'), 'utf8'), /name: 'lib\.tasks\.shared'/);
    const next = new Promise<void>((resolve) => (notify = resolve));
    writeFileSync(join(dir, 'lib/tasks.py'), taskSource('shared', 'str'));
    await next;
    assert.match(readFileSync(join(dir, 'app/gen.ts'), 'utf8'), /shared: defineTask<\[x: string\]/);
  } finally {
    await watcher.close();
  }
});

test('examples/esbuild-plugin.ts: the outputs are generated before esbuild reads them, and errors fail the build with their line', async () => {
  const dir = tree('esbuild');
  writeFileSync(join(dir, 'main.ts'), "import { TASK_SPECS } from './src/all.js';\nconsole.log(Object.keys(TASK_SPECS));\n");
  const options = { entryPoints: [join(dir, 'main.ts')], bundle: true, write: false, external: ['celery-gen'], logLevel: 'silent' as const, plugins: [celeryGen(config, { dir, cwd: dir })] };
  const ok = await build(options);
  assert.match(ok.outputFiles?.[0]?.text ?? '', /billing\.tasks\.charge/);
  writeFileSync(join(dir, 'billing/tasks.py'), 'def broken(:\n');
  await assert.rejects(build(options), (err: { errors: { text: string; location: { file: string; line: number } | null }[] }) => {
    assert.deepEqual(err.errors.map((e) => [e.location?.file, e.location?.line]), [['billing/tasks.py', 1]]);
    return true;
  });
});
