/**
 * Watch mode: regenerates an output when one of its inputs, or a module its run read
 * (`filesRead`), changes, appears or goes away. Bursts of saves are debounced; only
 * changed modules are parsed again (ExtractCache); an output whose bytes did not change
 * is not touched; a run with errors keeps the last good output. chokidar does the
 * watching (including editors' and `sed -i`'s write-new-then-rename saves).
 */
import { join, relative, resolve, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { CeleryGenConfig } from './config.js';
import { validateConfig } from './config.js';
import { type GenerateFiles, type OutputResult, type PlannedOutput, type ProjectOptions, type ProjectResult, loadGlobber, planOutputs, runOutput } from './config-run.js';
import type { Diagnostic } from './diagnostics.js';
import { ExtractCache } from './extract-cache.js';
import { TOOLING_DIRS, isVirtualenv } from './ignored-dirs.js';

export interface WatchOptions extends Omit<ProjectOptions, 'check' | 'write' | 'cache'> {
  /** How long after the last event of a burst to regenerate, in milliseconds. @default 10 */
  readonly debounceMs?: number;
  /** Called when the watcher itself fails (not for diagnostics, which arrive as results). @default writes to stderr */
  readonly onError?: (error: Error) => void;
}

/** One regeneration: the outputs it ran (outputs none of whose files changed are left out) and the files that set it off. */
export interface WatchResult extends ProjectResult {
  /** Absolute paths of the changed, added or removed files; empty for the first run. */
  readonly changed: readonly string[];
}

export interface ProjectWatcher {
  /** Resolves once the first run is done and the watcher is listening. */
  readonly ready: Promise<void>;
  /** Stops watching; idempotent. */
  close(): Promise<void>;
}

function ignored(path: string, stats?: { isFile(): boolean; isDirectory(): boolean }): boolean {
  const name = path.slice(path.lastIndexOf(sep) + 1);
  if (TOOLING_DIRS.has(name)) return true;
  if (stats?.isDirectory()) return isVirtualenv(path);
  return stats?.isFile() === true && !name.endsWith('.py');
}

/** watchProject with the generate function passed in (see config-run.ts for why). */
export function watchProjectWith(generateFiles: GenerateFiles, config: CeleryGenConfig, onResult: (result: WatchResult) => void, options: WatchOptions = {}): ProjectWatcher {
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, options.dir ?? '.');
  const cache = new ExtractCache();
  const runOptions: ProjectOptions = { ...options, cwd, cache };
  const onError = options.onError ?? ((e: Error) => process.stderr.write(`celery-gen: watch error: ${e.message}\n`));
  const checked = validateConfig(config, options.source ?? { path: 'celery-gen config' });
  if (checked.config === null) {
    onResult({ diagnostics: checked.diagnostics, outputs: [], changed: [] });
    return { ready: Promise.resolve(), close: async () => undefined };
  }
  const valid = checked.config;
  /** Per output index: its inputs at the last run, and every file that run read. */
  const last = new Map<number, { inputs: string; files: ReadonlySet<string> }>();
  const watchedOutside = new Set<string>();
  let pending = new Set<string>();
  /** Whether a pending event could change what the globs match (anything but a file's content changing). */
  let structural = false;
  let plans: readonly PlannedOutput[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const isInside = (p: string) => !relative(dir, p).startsWith('..');
  let watcher: FSWatcher | undefined;

  const run = (changed: ReadonlySet<string>, first: boolean, replan: boolean) => {
    const diagnostics: Diagnostic[] = [];
    const outputs: OutputResult[] = [];
    // A save that only changed a file's content keeps every glob's matches: no walk.
    if (replan) plans = planOutputs(valid, runOptions);
    for (const plan of plans) {
      // A glob that came to match nothing: say so, keep the last output, go on watching.
      if (plan.diagnostics.length > 0) {
        diagnostics.push(...plan.diagnostics);
        continue;
      }
      const inputs = plan.inputs.join('\0');
      const prev = last.get(plan.index);
      if (!first && prev !== undefined && prev.inputs === inputs && ![...changed].some((f) => prev.files.has(f))) continue;
      const result = runOutput(generateFiles, plan, runOptions);
      last.set(plan.index, { inputs, files: new Set(result.filesRead) });
      outputs.push(result);
    }
    const allFiles = new Set<string>();
    for (const { files } of last.values()) for (const f of files) allFiles.add(f);
    cache.retainFiles(new Set([...allFiles].map((f) => relative(cwd, f))));
    // Modules followed outside the config's folder are watched one by one.
    const outside = [...allFiles].filter((f) => !isInside(f) && !watchedOutside.has(f));
    for (const f of outside) watchedOutside.add(f);
    if (outside.length > 0) watcher?.add(outside);
    onResult({ diagnostics, outputs, changed: [...changed] });
  };

  const noteChange = (path: string, contentOnly: boolean) => {
    pending.add(path);
    if (!contentOnly) structural = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs ?? 10);
  };

  const flush = () => {
    timer = undefined;
    if (closed) return;
    const changed = pending;
    const replan = structural;
    pending = new Set();
    structural = false;
    try {
      run(changed, false, replan);
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
    }
  };

  // The first run comes before the watcher starts: it may create output folders, and
  // chokidar can lose a folder made right after it reported one it found late.
  const start = async () => {
    // chokidar and the glob library are imported here, not at the top: a one-file bundle
    // of the CLI would otherwise load them on every run.
    const [{ watch }] = await Promise.all([import('chokidar'), loadGlobber()]);
    run(new Set(), true, true);
    if (closed) return;
    watcher = watch([dir, ...watchedOutside], { ignored, ignoreInitial: true, persistent: true });
    // Every event counts, addDir included: files created with their folder may be
    // reported only through it.
    watcher.on('all', (event, path) => noteChange(resolve(path), event === 'change'));
    // chokidar 4 can stay silent about writes to a file that a rename replaced earlier
    // (a save after a `sed -i`); the raw fs.watch events still come, so Python files
    // named in them count too. A spurious one costs a re-read, never a write.
    watcher.on('raw', (event, name, details) => {
      const at = (details as { watchedPath?: string }).watchedPath;
      if (typeof name !== 'string' || !name.endsWith('.py') || at === undefined) return;
      noteChange(at.endsWith(`${sep}${name}`) ? at : join(at, name), event === 'change');
    });
    watcher.on('error', (err) => onError(err instanceof Error ? err : new Error(String(err))));
    await new Promise<void>((resolveReady) => watcher!.once('ready', () => resolveReady()));
  };
  const ready = start();

  return {
    ready,
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await watcher?.close();
    },
  };
}
