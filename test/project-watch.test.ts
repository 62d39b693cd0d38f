/**
 * `celery-gen --watch` as a user runs it: a child process over a small project, edited,
 * added to, renamed, deleted, saved the way `sed -i` saves, broken and fixed. Every save
 * must reach the output within a second; a broken save keeps the last good output; an
 * unchanged result leaves the file alone; Ctrl-C exits 0.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { startCli, taskSource, writeTree } from './support/project-tree.js';

const work = mkdtempSync(join(tmpdir(), 'celery-gen-watch-'));
after(() => rmSync(work, { recursive: true, force: true }));

const SAVE_BUDGET_MS = 1000;

/** What the running watcher printed, for failure messages. */
let log = (): string => "";

/** Runs `save`, then waits until `file` satisfies `ready`; returns the milliseconds that took. */
async function savedWithin(save: () => unknown, file: string, ready: (text: string) => boolean): Promise<number> {
  const start = performance.now();
  await save();
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (ready(text)) return performance.now() - start;
    if (performance.now() - start > 5 * SAVE_BUDGET_MS) assert.fail(`${file} did not change as expected within ${5 * SAVE_BUDGET_MS} ms; it holds:\n${text}\nThe watcher said:\n${log()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('watch: edit, add, rename, delete, sed -i, syntax error then fix, unchanged results, a glob emptied, config edits; SIGINT exits 0', async () => {
  const dir = join(work, 'proj');
  writeTree(dir, {
    'media/tasks.py': taskSource('resize'),
    'billing/tasks.py': taskSource('charge'),
    'solo/tasks.py': taskSource('alone'),
    'celery-gen.config.json': JSON.stringify({
      outputs: [
        { output: 'src/all.ts', inputs: ['**/tasks.py'], exclude: ['solo/**'] },
        { output: 'src/solo.ts', inputs: ['solo/tasks.py'] },
      ],
    }),
  });
  const all = join(dir, 'src/all.ts');
  const solo = join(dir, 'src/solo.ts');
  const cli = startCli(['--watch'], dir);
  log = cli.output;
  try {
    await cli.waitForOutput(/watching 2 outputs/);
    assert.match(readFileSync(all, 'utf8'), /'media\.tasks\.resize'/);
    assert.match(readFileSync(solo, 'utf8'), /'solo\.tasks\.alone'/);
    const soloMtime = statSync(solo).mtimeMs;
    const times: number[] = [];

    // Edit.
    times.push(await savedWithin(() => writeFileSync(join(dir, 'media/tasks.py'), taskSource('resize', 'str')), all, (t) => t.includes('resize: defineTask<[x: string]')));
    // Add a module in a new folder.
    times.push(
      await savedWithin(
        () => {
          mkdirSync(join(dir, 'shop'));
          writeFileSync(join(dir, 'shop/tasks.py'), taskSource('buy'));
        },
        all,
        (t) => t.includes("'shop.tasks.buy'"),
      ),
    );
    // Rename: the module name follows the path.
    times.push(
      await savedWithin(
        () => {
          mkdirSync(join(dir, 'store'));
          renameSync(join(dir, 'shop/tasks.py'), join(dir, 'store/tasks.py'));
        },
        all,
        (t) => t.includes("'store.tasks.buy'") && !t.includes("'shop.tasks.buy'"),
      ),
    );
    // Delete.
    times.push(await savedWithin(() => rmSync(join(dir, 'billing/tasks.py')), all, (t) => !t.includes('billing') && t.includes("'media.tasks.resize'")));
    // A save by writing a new file and renaming it over the old one.
    times.push(await savedWithin(() => promisify(execFile)('sed', ['-i', 's/x: str/x: float/', join(dir, 'media/tasks.py')]), all, (t) => t.includes('resize: defineTask<[x: number]')));
    for (const ms of times) assert.ok(ms < SAVE_BUDGET_MS, `a save took ${ms.toFixed(0)} ms to reach the output (${times.map((t) => t.toFixed(0)).join(', ')})`);
    assert.equal(statSync(solo).mtimeMs, soloMtime, 'an output none of whose files changed was touched');

    // A syntax error mid-edit: diagnostics, the last good output stays, watching goes on.
    const good = readFileSync(all, 'utf8');
    const goodMtime = statSync(all).mtimeMs;
    let mark = cli.output().length;
    appendFileSync(join(dir, 'media/tasks.py'), '\ndef broken(:\n    pass\n');
    await cli.waitForOutput(/media\/tasks\.py:\d+:\d+: error: .*\n.*src\/all\.ts kept as it was/, mark);
    assert.equal(readFileSync(all, 'utf8'), good);
    assert.equal(statSync(all).mtimeMs, goodMtime);
    // Fixed: generated again.
    const fixed = await savedWithin(() => writeFileSync(join(dir, 'media/tasks.py'), `${taskSource('resize', 'bool')}\n\n${taskSource('crop').split('\n').slice(3).join('\n')}`), all, (t) => t.includes("'media.tasks.crop'"));
    assert.ok(fixed < SAVE_BUDGET_MS, `the fix took ${fixed.toFixed(0)} ms`);

    // A save that changes nothing in the output leaves the file alone.
    const before = statSync(all).mtimeMs;
    mark = cli.output().length;
    appendFileSync(join(dir, 'media/tasks.py'), '# a comment\n');
    await cli.waitForOutput(/src\/all\.ts unchanged/, mark);
    assert.equal(statSync(all).mtimeMs, before);

    // A glob that comes to match nothing is a message; the old output stays and watching goes on.
    mark = cli.output().length;
    rmSync(join(dir, 'solo/tasks.py'));
    await cli.waitForOutput(/'solo\/tasks\.py' matches no file/, mark);
    assert.ok(existsSync(solo));
    const back = await savedWithin(() => writeFileSync(join(dir, 'solo/tasks.py'), taskSource('alone', 'str')), solo, (t) => t.includes('alone: defineTask<[x: string]'));
    assert.ok(back < SAVE_BUDGET_MS);

    // Editing the config restarts watching with it; a broken edit keeps the old one.
    const configFile = join(dir, 'celery-gen.config.json');
    mark = cli.output().length;
    writeFileSync(configFile, '{ "outputs": [ }');
    await cli.waitForOutput(/celery-gen\.config\.json:\d+:\d+: error: invalid JSON.*\n.*still watching with the previous config/, mark);
    mark = cli.output().length;
    writeFileSync(configFile, JSON.stringify({ outputs: [{ output: 'src/media.ts', inputs: ['media/tasks.py'] }] }));
    await cli.waitForOutput(/changed; restarting\n.*wrote src\/media\.ts\n.*watching 1 output\b/, mark);
    await savedWithin(() => writeFileSync(join(dir, 'media/tasks.py'), taskSource('resize', 'str')), join(dir, 'src/media.ts'), (t) => t.includes('resize: defineTask<[x: string]'));
  } finally {
    const code = await cli.interrupt();
    assert.equal(code, 0, cli.output());
  }
});

test('watch on the command line form: files -o out --watch keeps the derived module names', async () => {
  const dir = join(work, 'cli-form');
  writeTree(dir, { 'pkg/__init__.py': '', 'pkg/tasks.py': taskSource('one') });
  const cli = startCli(['pkg/tasks.py', '-o', 'out.ts', '--watch'], dir);
  log = cli.output;
  try {
    await cli.waitForOutput(/watching 1 output\b/);
    assert.match(readFileSync(join(dir, 'out.ts'), 'utf8'), /'pkg\.tasks\.one'/);
    await savedWithin(() => writeFileSync(join(dir, 'pkg/tasks.py'), taskSource('two')), join(dir, 'out.ts'), (t) => t.includes("'pkg.tasks.two'"));
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.output());
  }
});
