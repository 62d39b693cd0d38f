/**
 * Runs a config: expands each output's globs (tinyglobby), generates every output, and
 * writes the ones whose bytes changed, or, for `--check`, compares them with the disk.
 * The CLI's config mode, `generateProject` and watch mode all go through here.
 */
import { relative, resolve } from 'node:path';
import { type CeleryGenConfig, type ConfigSource, configDiagnostic, validateConfig } from './config.js';
import { type Diagnostic, fileDiagnostic, hasErrors } from './diagnostics.js';
import type { ExtractCache } from './extract-cache.js';
// Types only: the generate function itself is passed in by index.ts or cli.ts, which
// load this module lazily; importing index.ts from here would close an import cycle.
import type { GenerateFilesOptions, GenerateResult } from './index.js';
import { displayPath } from './inputs.js';
import { type CheckState, checkOutput, writeIfChanged } from './output-file.js';

export interface ProjectOptions {
  /** The folder relative paths in the config are relative to. @default process.cwd() */
  readonly dir?: string;
  /** Paths in diagnostics are shown relative to this. @default process.cwd() */
  readonly cwd?: string;
  /** How to name the config in messages (and, for JSON, where its lines are). @default `celery-gen config` */
  readonly source?: ConfigSource;
  /** Compare every output with the file on disk and write nothing. @default false */
  readonly check?: boolean;
  /** Write outputs whose bytes changed; `false` only returns the texts. @default true */
  readonly write?: boolean;
  /** Options that override every output's (the CLI flags); `root` is relative to `cwd`. */
  readonly overrides?: { readonly root?: string; readonly module?: string; readonly app?: string };
  /** @internal Module names from the `__init__.py` files above each input (the CLI's `files -o out --watch`), not from a root. */
  readonly inferModules?: boolean;
  /** @internal Extractions kept between watch runs. */
  readonly cache?: ExtractCache;
}

/** What happened to one output: written, unchanged (not touched), failed (diagnostics, old file kept), or for check: current, stale, missing. */
export type OutputStatus = 'written' | 'unchanged' | 'failed' | CheckState;

export interface OutputResult {
  /** Absolute path of the output file. */
  readonly output: string;
  readonly status: OutputStatus;
  /** The generated module; `null` when an error kept it from being generated. */
  readonly text: string | null;
  readonly diagnostics: readonly Diagnostic[];
  /** Absolute paths of the Python files read for this output (inputs and followed imports). */
  readonly filesRead: readonly string[];
  /** With `check`, a unified diff from the file on disk to the generated text when they differ. */
  readonly diff?: string;
}

export interface ProjectResult {
  /** Config problems (unknown key, wrong type, a glob matching nothing); when any is an error, no output was generated. */
  readonly diagnostics: readonly Diagnostic[];
  readonly outputs: readonly OutputResult[];
}

/** One output with its globs expanded. */
export interface PlannedOutput {
  readonly index: number;
  readonly output: string;
  /** Absolute paths, in glob order, each glob's matches sorted so output never depends on readdir order. */
  readonly inputs: readonly string[];
  readonly root?: string;
  readonly module?: string;
  readonly app?: string;
  /** Globs that matched nothing. */
  readonly diagnostics: readonly Diagnostic[];
}

let tinyglobby: typeof import('tinyglobby') | undefined;

/**
 * Loads the glob library; every entry point awaits this before planning. Imported
 * dynamically so that bundling the CLI into one file keeps it out of plain generate runs.
 */
export async function loadGlobber(): Promise<void> {
  tinyglobby ??= await import('tinyglobby');
}

function globber(): typeof import('tinyglobby') {
  if (tinyglobby === undefined) throw new Error('loadGlobber() was not awaited');
  return tinyglobby;
}

/** A file path as a glob matching exactly it (brackets and stars escaped). */
export function globOfPath(path: string): string {
  return globber().escapePath(path);
}

/** `generateFiles` from index.ts. */
export type GenerateFiles = (paths: readonly string[], options: GenerateFilesOptions) => GenerateResult;

const DEFAULT_SOURCE: ConfigSource = { path: 'celery-gen config' };

/** Expands every output's inputs; a glob that matches nothing is a diagnostic on that output. Needs {@link loadGlobber}. */
export function planOutputs(config: CeleryGenConfig, options: ProjectOptions = {}): PlannedOutput[] {
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, options.dir ?? '.');
  const source = options.source ?? DEFAULT_SOURCE;
  const overrideRoot = options.overrides?.root;
  return config.outputs.map((o, index) => {
    const diagnostics: Diagnostic[] = [];
    const inputs: string[] = [];
    const seen = new Set<string>();
    o.inputs.forEach((pattern, i) => {
      const matches = globber().globSync([pattern], { cwd: dir, ignore: [...(o.exclude ?? [])], absolute: true, onlyFiles: true, expandDirectories: false }).map((p) => resolve(p)).sort();
      if (matches.length === 0) diagnostics.push(configDiagnostic(source, ['outputs', index, 'inputs', i], `'${pattern}' matches no file${o.exclude?.length ? ' (after exclude)' : ''} under ${displayPath(relative(cwd, dir)) || '.'}`));
      for (const m of matches) if (!seen.has(m)) seen.add(m), inputs.push(m);
    });
    const root = overrideRoot !== undefined ? resolve(cwd, overrideRoot) : options.inferModules ? undefined : resolve(dir, o.root ?? config.root ?? '.');
    const module = options.overrides?.module ?? o.module;
    const app = options.overrides?.app ?? o.app;
    return { index, output: resolve(dir, o.output), inputs, ...(root === undefined ? {} : { root }), ...(module === undefined ? {} : { module }), ...(app === undefined ? {} : { app }), diagnostics };
  });
}

/** Generates one planned output and writes or checks it. */
export function runOutput(generateFiles: GenerateFiles, plan: PlannedOutput, options: ProjectOptions = {}): OutputResult {
  const cwd = options.cwd ?? process.cwd();
  const label = displayPath(relative(cwd, plan.output));
  const result = generateFiles(
    plan.inputs.map((p) => relative(cwd, p)),
    {
      out: plan.output,
      cwd,
      ...(plan.root === undefined ? {} : { root: plan.root }),
      ...(plan.module === undefined ? {} : { module: plan.module }),
      ...(plan.app === undefined ? {} : { app: plan.app }),
      ...(options.cache ? { cache: options.cache } : {}),
    },
  );
  const base = { output: plan.output, text: result.text, diagnostics: result.diagnostics, filesRead: result.filesRead };
  if (result.text === null) return { ...base, status: 'failed' };
  if (options.check) {
    const { state, diff } = checkOutput(plan.output, result.text, label);
    return { ...base, status: state, ...(state === 'current' ? {} : { diff }) };
  }
  if (options.write === false) return { ...base, status: 'unchanged' };
  try {
    return { ...base, status: writeIfChanged(plan.output, result.text) ? 'written' : 'unchanged' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return { ...base, status: 'failed', diagnostics: [...result.diagnostics, fileDiagnostic(label, 'unwritable-output', `cannot write the output: ${code}`)] };
  }
}

/**
 * Generates every output of a config: validates it, expands globs, and writes each
 * output whose bytes changed (or, with `check`, compares). Config errors stop the run
 * before anything is generated.
 */
export async function runProject(generateFiles: GenerateFiles, config: CeleryGenConfig, options: ProjectOptions = {}): Promise<ProjectResult> {
  await loadGlobber();
  const source = options.source ?? DEFAULT_SOURCE;
  const checked = validateConfig(config, source);
  if (checked.config === null) return { diagnostics: checked.diagnostics, outputs: [] };
  const plans = planOutputs(checked.config, options);
  const diagnostics = plans.flatMap((p) => p.diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics, outputs: [] };
  return { diagnostics, outputs: plans.map((p) => runOutput(generateFiles, p, options)) };
}
