/**
 * celery-gen's programmatic API: Python task modules in, a typed TypeScript module out.
 *
 * ```ts
 * import { generateFiles } from 'celery-gen/generator';
 * const { text, diagnostics } = generateFiles(['proj/tasks.py'], { out: 'src/tasks.ts' });
 * ```
 *
 * Stages: parse (tree-sitter) → extract → typemap → check → emit. Only `emit` produces
 * text, and only when no stage reported an error.
 */
import { dirname, relative, resolve } from 'node:path';
import { checkManifest } from './check.js';
import { type Diagnostic, fileDiagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
import type { ExtractedModule } from './extracted.js';
import { emit } from './emit.js';
import { extractModule } from './extract.js';
import { type ReadOptions, type SourceInput, displayPath, readInputs } from './inputs.js';
import { MODEL_VERSION, type Manifest } from './model.js';
import { resolveModules } from './resolve.js';

export { emit, type EmitOptions } from './emit.js';
export { formatDiagnostic, type Diagnostic } from './diagnostics.js';
export { moduleNameOf, readInputs, type SourceInput } from './inputs.js';
export { MODEL_VERSION } from './model.js';
export type * from './model.js';

export interface GenerateResult {
  /** The module text; `null` when any diagnostic is an error. */
  readonly text: string | null;
  readonly manifest: Manifest;
  /** Errors and warnings, by file (in input order) and position. */
  readonly diagnostics: readonly Diagnostic[];
}

export interface GenerateOptions {
  /** Paths for the generated header, relative to the output file; default: the input paths. */
  readonly sources?: readonly string[];
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
      classDefs: [],
      aliases: [],
      imports: {},
      diagnostics: [fileDiagnostic(i.file, 'syntax-error', 'expressions are nested too deeply to analyse')],
    };
  }
}

/** Builds the manifest of already-read sources: what `inspect --json` prints. */
export function buildManifest(inputs: readonly SourceInput[], extra: readonly Diagnostic[] = []): Manifest {
  const extracted = inputs.map((i) => extractGuarded(i));
  let resolved: ReturnType<typeof resolveModules>;
  try {
    resolved = resolveModules(extracted);
  } catch (err) {
    // Chains of thousands of aliases or base classes, the resolver's only deep recursion.
    if (!(err instanceof RangeError) || inputs.length === 0) throw err;
    resolved = { tasks: [], types: [], exceptions: [], diagnostics: [fileDiagnostic(inputs[0]!.file, 'syntax-error', 'type aliases or base classes are chained too deeply to analyse')] };
  }
  const modules = inputs.map((i) => ({ file: i.file, module: i.module }));
  const draft: Manifest = { version: MODEL_VERSION, modules, tasks: resolved.tasks, types: resolved.types, exceptions: resolved.exceptions, diagnostics: [] };
  const all = [...extra, ...extracted.flatMap((e) => e.diagnostics), ...resolved.diagnostics, ...checkManifest(draft)];
  return { ...draft, diagnostics: sortDiagnostics(all, inputs.map((i) => i.file)) };
}

/** Generates from sources already in memory. */
export function generate(inputs: readonly SourceInput[], options: GenerateOptions = {}, extra: readonly Diagnostic[] = []): GenerateResult {
  const manifest = buildManifest(inputs, extra);
  const failed = hasErrors(manifest.diagnostics) || inputs.length === 0;
  if (failed) return { text: null, manifest, diagnostics: manifest.diagnostics };
  try {
    return { text: emit(manifest, options.sources ? { sources: options.sources } : {}), manifest, diagnostics: manifest.diagnostics };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const diagnostics = [...manifest.diagnostics, fileDiagnostic(inputs[0]!.file, 'syntax-error', 'types are nested too deeply to print')];
    return { text: null, manifest: { ...manifest, diagnostics }, diagnostics };
  }
}

export interface GenerateFilesOptions extends ReadOptions {
  /** The output path: header paths are written relative to it (default: the working directory). */
  readonly out?: string;
}

/** Reads the files, derives module names, and generates. */
export function generateFiles(paths: readonly string[], options: GenerateFilesOptions = {}): GenerateResult {
  const { inputs, diagnostics } = readInputs(paths, options);
  const cwd = options.cwd ?? process.cwd();
  const base = options.out === undefined ? cwd : dirname(resolve(cwd, options.out));
  const sources = inputs.map((i) => displayPath(relative(base, resolve(cwd, i.file))));
  return generate(inputs, { sources }, diagnostics);
}
