/**
 * The CLI's config-file commands: `celery-gen` with no files (generate every output),
 * `--check` over all outputs, `--watch`, and `init`. Loaded only for them, so a plain
 * `celery-gen tasks.py -o out.ts` never loads lilconfig, tinyglobby or chokidar.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import type { Options } from './cli-args.js';
import type { CeleryGenConfig } from './config.js';
import { CONFIG_FILES, loadConfig } from './config-load.js';
import { type GenerateFiles, type OutputResult, type ProjectOptions, globOfPath, loadGlobber, planOutputs, runProject } from './config-run.js';
import { type Diagnostic, formatDiagnostic, hasErrors } from './diagnostics.js';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_STALE } from './exit-codes.js';
import { initConfig } from './init.js';
import { writeErr, writeOut } from './cli-output.js';
import { displayPath } from './inputs.js';


function say(line: string): void {
  writeErr(`${line}\n`);
}

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) say(formatDiagnostic(d));
}

function shown(abs: string): string {
  return displayPath(relative(process.cwd(), abs));
}

/** Prints one output's outcome; returns its exit code. */
function report(r: OutputResult, watching: boolean): number {
  printDiagnostics(r.diagnostics);
  switch (r.status) {
    case 'failed':
      say(`celery-gen: ${shown(r.output)} ${watching ? 'kept as it was (errors above); still watching' : 'not written (errors above)'}`);
      return EXIT_BAD_INPUT;
    case 'written':
      say(`celery-gen: wrote ${shown(r.output)}`);
      return EXIT_OK;
    case 'unchanged':
      if (watching) say(`celery-gen: ${shown(r.output)} unchanged`);
      return EXIT_OK;
    case 'current':
      return EXIT_OK;
    case 'stale':
    case 'missing':
      say(`celery-gen: ${shown(r.output)} is ${r.status === 'missing' ? 'missing' : 'out of date'}; run celery-gen again without --check`);
      writeOut(r.diff ?? '');
      return EXIT_STALE;
  }
}

/** `celery-gen [--check|--watch]` from the config file, or `files -o out --watch`. */
export async function runConfigCommand(o: Options, generateFiles: GenerateFiles): Promise<number> {
  const cwd = process.cwd();
  let config: CeleryGenConfig;
  let options: ProjectOptions;
  let configPath: string | undefined;
  await loadGlobber();
  const overrides = { ...(o.root === undefined ? {} : { root: o.root }), ...(o.module === undefined ? {} : { module: o.module }), ...(o.app === undefined ? {} : { app: o.app }) };
  if (o.files.length > 0) {
    // `files -o out --watch`: the command line as a one-output config, module names as without --watch.
    config = { outputs: [{ output: o.out!, inputs: o.files.map((f) => globOfPath(displayPath(f))) }] };
    options = { cwd, dir: cwd, overrides, inferModules: true, source: { path: 'command line' } };
  } else {
    const outcome = await loadConfig(cwd, o.config);
    if ('notFound' in outcome) {
      say(`celery-gen: error: no input files, and no config file (${CONFIG_FILES.slice(0, 3).join(', ')} or a "celery-gen" key in package.json) here or above`);
      say('Run celery-gen init to write one, or celery-gen --help for usage.');
      return EXIT_BAD_INPUT;
    }
    if ('diagnostics' in outcome) {
      printDiagnostics(outcome.diagnostics);
      return EXIT_BAD_INPUT;
    }
    config = outcome.loaded.config;
    configPath = outcome.loaded.path;
    options = { cwd, dir: outcome.loaded.dir, source: outcome.loaded.source, overrides, check: o.check };
  }
  if (o.watch) return watchUntilInterrupted(generateFiles, config, options, configPath);
  const result = await runProject(generateFiles, config, options);
  printDiagnostics(result.diagnostics);
  if (hasErrors(result.diagnostics)) return EXIT_BAD_INPUT;
  return result.outputs.reduce((code, r) => Math.max(code, report(r, false)), EXIT_OK);
}

/**
 * Watches until Ctrl-C. When the config came from a file, an edit to that file restarts
 * watching with the new config; a broken edit is reported and the old config kept.
 */
async function watchUntilInterrupted(generateFiles: GenerateFiles, config: CeleryGenConfig, options: ProjectOptions, configPath?: string): Promise<number> {
  // At the start a glob matching nothing is an error, as without --watch; later it is a message.
  const globErrors = planOutputs(config, options).flatMap((p) => p.diagnostics);
  if (globErrors.length > 0) {
    printDiagnostics(globErrors);
    return EXIT_BAD_INPUT;
  }
  const { watchProjectWith } = await import('./watch.js');
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const start = async (c: CeleryGenConfig, o: ProjectOptions) => {
    const w = watchProjectWith(
      generateFiles,
      c,
      (r) => {
        printDiagnostics(r.diagnostics);
        for (const out of r.outputs) report(out, true);
      },
      o,
    );
    await w.ready;
    say(`celery-gen: watching ${c.outputs.length} output${c.outputs.length === 1 ? '' : 's'}; Ctrl-C to stop`);
    return w;
  };
  let watcher = await start(config, options);
  let configWatcher: FSWatcher | undefined;
  if (configPath !== undefined) {
    const path = configPath;
    let timer: NodeJS.Timeout | undefined;
    let reloading = Promise.resolve();
    const reload = async () => {
      const outcome = await loadConfig(options.cwd ?? process.cwd(), path, true);
      if (!('loaded' in outcome)) {
        if ('diagnostics' in outcome) printDiagnostics(outcome.diagnostics);
        say(`celery-gen: ${shown(path)} has errors; still watching with the previous config`);
        return;
      }
      say(`celery-gen: ${shown(path)} changed; restarting`);
      await watcher.close();
      watcher = await start(outcome.loaded.config, { ...options, dir: outcome.loaded.dir, source: outcome.loaded.source });
    };
    // The folder, not the file: editors save by renaming a new file over the old one.
    configWatcher = watch(dirname(path), (_event, name) => {
      if (name !== basename(path)) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => (reloading = reloading.then(reload)), 50);
    });
  }
  await interrupted;
  configWatcher?.close();
  await watcher.close();
  return EXIT_OK;
}

/** `celery-gen init [--root dir] [--pattern name] [-o out] [--force]`. */
export function runInit(o: Options): number {
  const dir = o.root ?? process.cwd();
  const outcome = initConfig({ dir, ...(o.pattern === undefined ? {} : { pattern: o.pattern }), ...(o.out === undefined ? {} : { out: o.out }), ...(o.force ? { force: true } : {}) });
  const skippedLine = (skipped: readonly string[], unreadable: readonly string[]) => {
    if (skipped.length > 0) say(`skipped ${skipped.length} folder${skipped.length === 1 ? '' : 's'} (virtualenvs, node_modules, site-packages, migrations, tests): ${skipped.map(shown).join(', ')}`);
    if (unreadable.length > 0) say(`celery-gen: warning: could not read ${unreadable.length} folder${unreadable.length === 1 ? '' : 's'}; task modules in them were not found: ${unreadable.map(shown).join(', ')}`);
  };
  switch (outcome.kind) {
    case 'exists':
      say(`celery-gen: error: ${shown(outcome.path)} already exists; pass --force to overwrite it`);
      return EXIT_BAD_INPUT;
    case 'none-found':
      say(`celery-gen: error: no file named ${o.pattern ?? 'tasks.py'} under ${shown(dir) || '.'}; pass --pattern for another name`);
      skippedLine(outcome.skipped, outcome.unreadable);
      return EXIT_BAD_INPUT;
    case 'written':
      say(`found ${outcome.files.length} task module${outcome.files.length === 1 ? '' : 's'}:`);
      for (const f of outcome.files) say(`  ${shown(f)}`);
      if (outcome.config.outputs[0]!.app !== undefined) {
        say(`the Celery app: ${outcome.config.outputs[0]!.app} (${shown(outcome.apps[0]!)}); its task_routes and task_default_queue are read too`);
      } else if (outcome.apps.length > 1) {
        say(`several Celery app modules (${outcome.apps.map(shown).join(', ')}): set "app" in the config to the one these tasks run under, so its routes are read`);
      }
      skippedLine(outcome.skipped, outcome.unreadable);
      say(`celery-gen: wrote ${shown(outcome.path)}; run celery-gen to generate ${outcome.config.outputs[0]!.output}`);
      return EXIT_OK;
  }
}
