/**
 * celery-gen's programmatic API: Python task modules in, a typed TypeScript module out.
 *
 * ```ts
 * import { generateFiles } from 'celery-gen/generator';
 * const { text, diagnostics } = generateFiles(['proj/tasks.py'], { out: 'src/tasks.ts' });
 * ```
 *
 * A whole project, as the config file describes it (docs/config.md):
 *
 * ```ts
 * import { defineConfig, generateProject } from 'celery-gen/generator';
 * const { outputs } = await generateProject(defineConfig({ outputs: [{ output: 'src/tasks.ts', inputs: ['**\/tasks.py'] }] }));
 * ```
 *
 * Stages: load (the inputs and the modules they import) → parse (tree-sitter) → extract →
 * evaluate (constants in options, app routes) → typemap → check → emit. Only `emit`
 * produces text, and only when no stage reported an error.
 */
import { dirname, relative, resolve } from 'node:path';
import { checkManifest } from './check.js';
import type { CeleryGenConfig } from './config.js';
import type { ProjectOptions, ProjectResult } from './config-run.js';
import { type Diagnostic, fileDiagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
import { compileRoutes } from '../runtime/client/routes.js';
import { readAppConfig, taskRoutes } from './app-config.js';
import type { ExtractedModule } from './extracted.js';
import { emit } from './emit.js';
import { evaluateTaskOptions } from './evaluate.js';
import { type ReadOptions, type SourceInput, displayPath } from './inputs.js';
import { type JsonValue, MODEL_VERSION, type Manifest } from './model.js';
import { extractCached, loadProject } from './project.js';
import { resolveModules } from './resolve.js';
import { Scope } from './scope.js';
import type { ExtractCache } from './extract-cache.js';
import type { ProjectWatcher, WatchOptions, WatchResult } from './watch.js';

export { emit, type EmitOptions } from './emit.js';
export { formatDiagnostic, type Diagnostic } from './diagnostics.js';
export { moduleNameOf, readInputs, type SourceInput } from './inputs.js';
export { MODEL_VERSION } from './model.js';
export type * from './model.js';
export { defineConfig, type CeleryGenConfig, type OutputConfig } from './config.js';
export type { OutputResult, OutputStatus, ProjectOptions, ProjectResult } from './config-run.js';
export type { ProjectWatcher, WatchOptions, WatchResult } from './watch.js';

export interface GenerateResult {
  /** The module text; `null` when any diagnostic is an error. */
  readonly text: string | null;
  readonly manifest: Manifest;
  /** Errors and warnings, by file (in input order) and position. */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Absolute paths of every Python file this run read: the inputs and the modules followed
   * by import (empty for in-memory sources). A watcher regenerates when any of them changes.
   */
  readonly filesRead: readonly string[];
}

export interface GenerateOptions {
  /** Paths for the generated header, relative to the output file; default: the input paths. */
  readonly sources?: readonly string[];
  /** Extractions kept from earlier runs (watch mode): unchanged modules are not parsed again. */
  readonly cache?: ExtractCache;
}

/**
 * The manifest of extracted modules: `inputs` give the tasks, `followed` (modules read
 * because something imports them) only types, constants and app settings.
 */
export function manifestOf(inputs: readonly ExtractedModule[], followed: readonly ExtractedModule[] = [], extra: readonly Diagnostic[] = []): Manifest {
  const scope = new Scope([...inputs, ...followed]);
  const evaluated: Diagnostic[] = [];
  const withOptions = inputs.map((m) => ({
    ...m,
    tasks: m.tasks.map((t) => {
      const r = evaluateTaskOptions(t, m, scope);
      evaluated.push(...r.diagnostics);
      return r.task;
    }),
  }));
  const app = readAppConfig([...inputs, ...followed], scope);
  const router = compileRoutes(taskRoutes(app));
  let resolved: ReturnType<typeof resolveModules>;
  try {
    resolved = resolveModules(withOptions, followed, (name) => router.route(name) as { readonly [key: string]: JsonValue } | null, scope);
  } catch (err) {
    // Chains of thousands of aliases or base classes, the resolver's only deep recursion.
    if (!(err instanceof RangeError) || inputs.length === 0) throw err;
    resolved = { tasks: [], types: [], exceptions: [], diagnostics: [fileDiagnostic(inputs[0]!.file, 'syntax-error', 'type aliases or base classes are chained too deeply to analyse')] };
  }
  const modules = inputs.map((i) => ({ file: i.file, module: i.module }));
  const draft: Manifest = { version: MODEL_VERSION, modules, tasks: resolved.tasks, types: resolved.types, defaultQueue: app.defaultQueue, exceptions: resolved.exceptions, diagnostics: [] };
  const all = [
    ...extra,
    ...inputs.flatMap((e) => e.diagnostics),
    ...followed.flatMap((e) => e.diagnostics),
    ...evaluated,
    ...app.diagnostics,
    ...resolved.diagnostics,
    ...checkManifest(draft),
  ];
  const order = [...inputs, ...followed].map((m) => m.file);
  return { ...draft, diagnostics: sortDiagnostics(all, order) };
}

/** Builds the manifest of already-read sources (no import following): what `inspect --json` prints. */
export function buildManifest(inputs: readonly SourceInput[], extra: readonly Diagnostic[] = [], cache?: ExtractCache): Manifest {
  return manifestOf(
    inputs.map((i) => extractCached(i, cache)),
    [],
    extra,
  );
}

/** Generates from a manifest: text only when it has no errors. */
function generateFrom(manifest: Manifest, inputCount: number, options: GenerateOptions, filesRead: readonly string[]): GenerateResult {
  const failed = hasErrors(manifest.diagnostics) || inputCount === 0;
  if (failed) return { text: null, manifest, diagnostics: manifest.diagnostics, filesRead };
  try {
    return { text: emit(manifest, options.sources ? { sources: options.sources } : {}), manifest, diagnostics: manifest.diagnostics, filesRead };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const diagnostics = [...manifest.diagnostics, fileDiagnostic(manifest.modules[0]!.file, 'syntax-error', 'types are nested too deeply to print')];
    return { text: null, manifest: { ...manifest, diagnostics }, diagnostics, filesRead };
  }
}

/** Generates from sources already in memory (imports are not followed: there are no files to follow). */
export function generate(inputs: readonly SourceInput[], options: GenerateOptions = {}, extra: readonly Diagnostic[] = []): GenerateResult {
  return generateFrom(buildManifest(inputs, extra, options.cache), inputs.length, options, []);
}

export interface GenerateFilesOptions extends ReadOptions {
  /** The output path: header paths are written relative to it (default: the working directory). */
  readonly out?: string;
  /** See {@link GenerateOptions.cache}. */
  readonly cache?: ExtractCache;
}

/** The manifest of files on disk, following their imports: what `inspect` prints. */
export function inspectFiles(paths: readonly string[], options: ReadOptions = {}): { manifest: Manifest; filesRead: readonly string[] } {
  const project = loadProject(paths, options);
  return { manifest: manifestOf(project.inputModules, project.followed, project.diagnostics), filesRead: project.filesRead };
}

/** Reads the files and the modules they import, derives module names, and generates. */
export function generateFiles(paths: readonly string[], options: GenerateFilesOptions = {}): GenerateResult {
  const project = loadProject(paths, options);
  const cwd = options.cwd ?? process.cwd();
  const base = options.out === undefined ? cwd : dirname(resolve(cwd, options.out));
  const sources = project.inputs.map((i) => displayPath(relative(base, resolve(cwd, i.file))));
  const manifest = manifestOf(project.inputModules, project.followed, project.diagnostics);
  // Every input, read or not (a missing one is watched for its return), and every module followed.
  const filesRead = [...new Set([...paths.map((p) => resolve(cwd, p)), ...project.filesRead])];
  return generateFrom(manifest, project.inputs.length, { sources }, filesRead);
}

/**
 * Generates every output of a config (the shape of celery-gen.config.json; paths relative
 * to `options.dir`, default the working directory) and writes each one whose bytes
 * changed; with `check`, compares instead. Config problems and each output's diagnostics
 * come back as data; nothing is printed. Loads the glob library only when called.
 */
export async function generateProject(config: CeleryGenConfig, options: ProjectOptions = {}): Promise<ProjectResult> {
  const { runProject } = await import('./config-run.js');
  return await runProject(generateFiles, config, options);
}

/**
 * Generates every output, then regenerates on each change to an input or to a module a
 * run read, calling `onResult` after every run (the first included). Resolves once it is
 * watching; `close()` stops it. A run with errors reports them and keeps the old file.
 */
export async function watchProject(config: CeleryGenConfig, onResult: (result: WatchResult) => void, options: WatchOptions = {}): Promise<ProjectWatcher> {
  const { watchProjectWith } = await import('./watch.js');
  const watcher = watchProjectWith(generateFiles, config, onResult, options);
  await watcher.ready;
  return watcher;
}
