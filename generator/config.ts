/**
 * The config file's shape and its validation: what `celery-gen` with no files, `--check`,
 * `--watch` and the programmatic API run from. Every problem is a diagnostic naming the
 * config's path, and its line when the format has lines (JSON, package.json).
 */
import { type Diagnostic, LineMap } from './diagnostics.js';
import { FLAGS } from './flags.js';
import { type JsonPath, locateJson } from './json-locate.js';

/** One generated TypeScript module. Paths are relative to the config's folder. */
export interface OutputConfig {
  /** The file to write, e.g. `src/tasks.ts`. */
  readonly output: string;
  /** Python files or globs (tinyglobby syntax), in output order; each must match something. */
  readonly inputs: readonly string[];
  /** Globs of files to leave out, e.g. `**\/migrations/**`. */
  readonly exclude?: readonly string[];
  /** Import root for this output (the CLI's `--root`). @default the config's `root` */
  readonly root?: string;
  /** Module name of a single input (the CLI's `--module`). */
  readonly module?: string;
  /** The Celery app's module, as `celery -A` takes it (the CLI's `--app`). */
  readonly app?: string;
}

export interface CeleryGenConfig {
  /** Import root: module names are input paths relative to it (`media/tasks.py` → `media.tasks`). @default the config's folder */
  readonly root?: string;
  readonly outputs: readonly OutputConfig[];
}

/** Types a `celery-gen.config.mjs` default export: `export default defineConfig({ outputs: [...] })`. */
export function defineConfig<const T extends CeleryGenConfig>(config: T): T {
  return config;
}

/** Where a config came from, for messages: its display path and, for JSON, its text. */
export interface ConfigSource {
  readonly path: string;
  /** The JSON text the config was parsed from (lines in messages); absent for modules. */
  readonly text?: string;
  /** Where the config sits inside that JSON (`['celery-gen']` in package.json). */
  readonly prefix?: JsonPath;
}

/** A config diagnostic at `path` within the config (its key with `key`, else its value). */
export function configDiagnostic(source: ConfigSource, path: JsonPath, message: string, key = false): Diagnostic {
  let line = 0;
  let column = 0;
  if (source.text !== undefined) {
    const at = new LineMap(source.text).position(locateJson(source.text, [...(source.prefix ?? []), ...path], key));
    line = at.line;
    column = at.column;
  }
  return { file: source.path, line, column, endLine: line, endColumn: column, severity: 'error', code: 'config', message };
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v === 'string' ? 'a string' : `${typeof v} ${JSON.stringify(v) ?? ''}`.trim();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function at(path: JsonPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const TOP_KEYS = ['root', 'outputs'];
const OUTPUT_FLAGS = FLAGS.filter((f) => f.perOutput);
const OUTPUT_KEYS = ['output', 'inputs', 'exclude', ...OUTPUT_FLAGS.map((f) => f.name)];

/** Checks a loaded value against the config shape; every problem becomes a diagnostic. */
export function validateConfig(raw: unknown, source: ConfigSource): { config: CeleryGenConfig; diagnostics: [] } | { config: null; diagnostics: Diagnostic[] } {
  const out: Diagnostic[] = [];
  const fail = (path: JsonPath, message: string, key = false) => out.push(configDiagnostic(source, path, message, key));
  const unknownKeys = (obj: Record<string, unknown>, allowed: readonly string[], path: JsonPath) => {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) fail([...path, k], `unknown key '${k}'${path.length ? ` in ${at(path)}` : ''} (allowed: ${allowed.join(', ')})`, true);
    }
  };
  const stringList = (v: unknown, path: JsonPath, nonEmpty: boolean) => {
    if (!Array.isArray(v)) return fail(path, `${at(path)} must be an array of strings, not ${describe(v)}`);
    if (nonEmpty && v.length === 0) return fail(path, `${at(path)} is empty; list at least one file or glob`);
    v.forEach((item, i) => {
      if (typeof item !== 'string' || item === '') fail([...path, i], `${at([...path, i])} must be a non-empty string, not ${describe(item)}`);
    });
  };
  if (!isObject(raw)) {
    fail([], `the config must be an object with an 'outputs' array, not ${describe(raw)}`);
    return { config: null, diagnostics: out };
  }
  unknownKeys(raw, TOP_KEYS, []);
  if (raw['root'] !== undefined && typeof raw['root'] !== 'string') fail(['root'], `root must be a string, not ${describe(raw['root'])}`);
  const outputs = raw['outputs'];
  if (outputs === undefined) fail([], "the config has no 'outputs': list the modules to generate");
  else if (!Array.isArray(outputs)) fail(['outputs'], `outputs must be an array, not ${describe(outputs)}`);
  else {
    if (outputs.length === 0) fail(['outputs'], 'outputs is empty; list at least one output');
    outputs.forEach((o: unknown, i) => {
      const path = ['outputs', i];
      if (!isObject(o)) return fail(path, `${at(path)} must be an object, not ${describe(o)}`);
      unknownKeys(o, OUTPUT_KEYS, path);
      if (typeof o['output'] !== 'string' || o['output'] === '') {
        fail(o['output'] === undefined ? path : [...path, 'output'], `${at(path)}.output must be a file path, not ${describe(o['output'])}`);
      }
      if (o['inputs'] === undefined) fail(path, `${at(path)} has no 'inputs': list its Python files or globs`);
      else stringList(o['inputs'], [...path, 'inputs'], true);
      if (o['exclude'] !== undefined) stringList(o['exclude'], [...path, 'exclude'], false);
      for (const f of OUTPUT_FLAGS) {
        const v = o[f.name];
        if (v !== undefined && typeof v !== f.type) fail([...path, f.name], `${at(path)}.${f.name} must be a ${f.type}, not ${describe(v)}`);
      }
    });
  }
  if (out.length > 0) return { config: null, diagnostics: out };
  return { config: raw as unknown as CeleryGenConfig, diagnostics: [] };
}
