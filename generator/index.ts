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
 * Stages: parse (tree-sitter) → extract → typemap → check → emit. Only `emit` produces
 * text, and only when no stage reported an error.
 */
import { dirname, relative, resolve } from 'node:path';
import { checkManifest } from './check.js';
import type { CeleryGenConfig } from './config.js';
import type { ProjectOptions, ProjectResult } from './config-run.js';
import { type Diagnostic, fileDiagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
import type { ExtractedModule } from './extracted.js';
import { emit } from './emit.js';
import { extractModule } from './extract.js';
import type { ExtractCache } from './extract-cache.js';
import { type ReadOptions, type SourceInput, displayPath, readInputs } from './inputs.js';
import { MODEL_VERSION, type Manifest } from './model.js';
import { resolveModules } from './resolve.js';
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
  /** Absolute paths of every Python file the run read (or tried to): what watch mode watches. */
  readonly filesRead: string[];
}

export interface GenerateOptions {
  /** Paths for the generated header, relative to the output file; default: the input paths. */
  readonly sources?: readonly string[];
  /** Extractions kept from earlier runs (watch mode): unchanged modules are not parsed again. */
  readonly cache?: ExtractCache;
}

/**
 * Extraction recurses over expressions; absurdly deep nesting (thousands of brackets)
 * would exhaust the stack. That is bad input, reported as such, not an internal error.
 */
function extractGuarded(i: SourceInput): ExtractedModule {
  try {
    return extractModule(i.file, i.module, i.text);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return {
      file: i.file,
      module: i.module,
      tasks: [],
      classes: [],
      aliases: [],
      imports: {},
      diagnostics: [fileDiagnostic(i.file, 'syntax-error', 'expressions are nested too deeply to analyse')],
    };
  }
}

/** Builds the manifest of already-read sources: what `inspect --json` prints. */
export function buildManifest(inputs: readonly SourceInput[], extra: readonly Diagnostic[] = [], cache?: ExtractCache): Manifest {
  const extracted = inputs.map((i) => (cache ? cache.get(i, extractGuarded) : extractGuarded(i)));
  let resolved: ReturnType<typeof resolveModules>;
  try {
    resolved = resolveModules(extracted);
  } catch (err) {
    // Chains of thousands of aliases or base classes, the resolver's only deep recursion.
    if (!(err instanceof RangeError) || inputs.length === 0) throw err;
    resolved = { tasks: [], types: [], diagnostics: [fileDiagnostic(inputs[0]!.file, 'syntax-error', 'type aliases or base classes are chained too deeply to analyse')] };
  }
  const modules = inputs.map((i) => ({ file: i.file, module: i.module }));
  const draft: Manifest = { version: MODEL_VERSION, modules, tasks: resolved.tasks, types: resolved.types, diagnostics: [] };
  const all = [...extra, ...extracted.flatMap((e) => e.diagnostics), ...resolved.diagnostics, ...checkManifest(draft)];
  return { ...draft, diagnostics: sortDiagnostics(all, inputs.map((i) => i.file)) };
}

/** Generates from sources already in memory. */
export function generate(inputs: readonly SourceInput[], options: GenerateOptions = {}, extra: readonly Diagnostic[] = []): GenerateResult {
  const manifest = buildManifest(inputs, extra, options.cache);
  const filesRead: string[] = [];
  const failed = hasErrors(manifest.diagnostics) || inputs.length === 0;
  if (failed) return { text: null, manifest, diagnostics: manifest.diagnostics, filesRead };
  try {
    return { text: emit(manifest, options.sources ? { sources: options.sources } : {}), manifest, diagnostics: manifest.diagnostics, filesRead };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const diagnostics = [...manifest.diagnostics, fileDiagnostic(inputs[0]!.file, 'syntax-error', 'types are nested too deeply to print')];
    return { text: null, manifest: { ...manifest, diagnostics }, diagnostics, filesRead };
  }
}

export interface GenerateFilesOptions extends ReadOptions {
  /** The output path: header paths are written relative to it (default: the working directory). */
  readonly out?: string;
  /** See {@link GenerateOptions.cache}. */
  readonly cache?: ExtractCache;
}

/** Reads the files, derives module names, and generates. */
export function generateFiles(paths: readonly string[], options: GenerateFilesOptions = {}): GenerateResult {
  const { inputs, diagnostics } = readInputs(paths, options);
  const cwd = options.cwd ?? process.cwd();
  const base = options.out === undefined ? cwd : dirname(resolve(cwd, options.out));
  const sources = inputs.map((i) => displayPath(relative(base, resolve(cwd, i.file))));
  const result = generate(inputs, { sources, ...(options.cache ? { cache: options.cache } : {}) }, diagnostics);
  // Every input, read or not: a missing one is watched for its return.
  return { ...result, filesRead: paths.map((p) => resolve(cwd, p)) };
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
