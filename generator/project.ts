/**
 * Loads a project: the input files plus every module they import that resolves to a `.py`
 * file under the root, as Python would find them: the package `__init__.py` chain, `import x`,
 * `from x import y` (y may be a submodule), relative imports, transitively, and the module a
 * `config_from_object('proj.celeryconfig')` names. Each file is read and parsed once per run.
 * Imported modules contribute types, constants and app settings; tasks come only from inputs.
 * An import that resolves to no file under the root (stdlib, third-party) is not an error.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { configModules } from './app-config.js';
import { type Diagnostic, fileDiagnostic } from './diagnostics.js';
import type { ExtractedModule } from './extracted.js';
import type { ExtractCache } from './extract-cache.js';
import { extractModule } from './extract.js';
import { type ReadOptions, type SourceInput, decodeSource, displayPath, readFailure, readInputs } from './inputs.js';

export interface Project {
  readonly inputs: readonly SourceInput[];
  /** The extracted inputs, in input order. */
  readonly inputModules: readonly ExtractedModule[];
  /** Modules read because something imports them (never an input), in the order found. */
  readonly followed: readonly ExtractedModule[];
  /** Absolute paths of every Python file read: inputs, then followed modules. */
  readonly filesRead: readonly string[];
  /** How many files were parsed: at most `filesRead.length` (each file once; blank ones not at all). */
  readonly parses: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** A module with no definitions (an empty `__init__.py`, or one too deeply nested to read). */
function emptyModule(file: string, module: string, diagnostics: readonly Diagnostic[]): ExtractedModule {
  return { file, module, tasks: [], classes: [], aliases: [], classDefs: [], imports: {}, constants: {}, importedModules: [], starImports: [], appStatements: [], diagnostics };
}

/** Extraction, with absurd nesting (a RangeError from the recursion) reported as bad input. */
export function extractGuarded(file: string, module: string, text: string): ExtractedModule {
  try {
    return extractModule(file, module, text);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return emptyModule(file, module, [fileDiagnostic(file, 'syntax-error', 'expressions are nested too deeply to analyse')]);
  }
}

/** The directory module names are relative to: `--root`, else the top of the input's package. */
function rootOf(abs: string, module: string): string {
  let dir = dirname(abs);
  const depth = module.split('.').length - (/(^|[\\/])__init__\.pyi?$/.test(abs) ? 0 : 1);
  for (let i = 0; i < depth; i++) dir = dirname(dir);
  return dir;
}

function isFile(path: string): boolean {
  // No exception for a missing file: most candidate paths do not exist.
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Extraction through the watch cache when there is one: an unchanged file is not parsed again. */
export function extractCached(input: SourceInput, cache: ExtractCache | undefined): ExtractedModule {
  return cache ? cache.get(input, (i) => extractGuarded(i.file, i.module, i.text)) : extractGuarded(input.file, input.module, input.text);
}

export function loadProject(paths: readonly string[], options: ReadOptions & { readonly cache?: ExtractCache | undefined } = {}): Project {
  const cwd = options.cwd ?? process.cwd();
  const { inputs, diagnostics: readDiagnostics } = readInputs(paths, options);
  const diagnostics: Diagnostic[] = [...readDiagnostics];
  const roots: string[] = [];
  const filesRead: string[] = [];
  const byModule = new Map<string, ExtractedModule | null>();
  const inputModules: ExtractedModule[] = [];
  const followed: ExtractedModule[] = [];
  let parses = 0;

  for (const input of inputs) {
    const abs = resolve(cwd, input.file);
    const root = options.root === undefined ? rootOf(abs, input.module) : resolve(cwd, options.root);
    if (!roots.includes(root)) roots.push(root);
    filesRead.push(abs);
    parses++;
    const m = extractCached(input, options.cache);
    inputModules.push(m);
    byModule.set(input.module, m);
  }

  /** The file of a module under one of the roots, or null. */
  const fileOf = (module: string): string | null => {
    const rel = module.split('.');
    for (const root of roots) {
      const plain = join(root, ...rel) + '.py';
      if (isFile(plain)) return plain;
      const pkg = join(root, ...rel, '__init__.py');
      if (isFile(pkg)) return pkg;
    }
    return null;
  };

  const queue: string[] = [];
  const want = (name: string): void => {
    // Python imports every parent package first: `a.b.c` runs a/__init__.py and a/b/__init__.py.
    const parts = name.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      if (!byModule.has(prefix) && !queue.includes(prefix)) queue.push(prefix);
    }
  };
  const enqueueFrom = (m: ExtractedModule): void => {
    for (const name of m.importedModules) want(name);
    for (const name of configModules(m)) want(name);
  };
  // The app named like `celery -A proj`: Celery looks in `proj`, then `proj.celery`. Read
  // before the inputs' imports, so its app is the one found when no input defines one.
  if (options.app !== undefined) {
    want(options.app);
    want(`${options.app}.celery`);
  }
  for (const m of inputModules) {
    want(m.module);
    enqueueFrom(m);
  }
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (byModule.has(name)) continue;
    const abs = fileOf(name);
    if (abs === null || filesRead.includes(abs)) {
      byModule.set(name, null);
      continue;
    }
    const file = displayPath(relative(cwd, abs));
    let text: string;
    try {
      const decoded = decodeSource(file, readFileSync(abs));
      if ('diagnostic' in decoded) {
        diagnostics.push({ ...decoded.diagnostic, severity: 'warning' });
        byModule.set(name, null);
        continue;
      }
      text = decoded.text;
    } catch (error) {
      // Imported, found under the root, but unreadable: what it defines stays unresolved,
      // and the reason is said here rather than lost behind later 'unknown' warnings.
      diagnostics.push({ ...fileDiagnostic(file, 'unreadable-file', `cannot read imported module ${name}: ${readFailure(error)}`), severity: 'warning' });
      byModule.set(name, null);
      continue;
    }
    filesRead.push(abs);
    // Most package __init__.py files are empty: nothing to parse.
    const blank = /^\s*$/.test(text);
    if (!blank) parses++;
    const extracted = blank ? emptyModule(file, name, []) : extractCached({ file, module: name, text }, options.cache);
    // Only what breaks reading definitions matters here; task diagnostics belong to inputs.
    const kept = extracted.diagnostics.filter((d) => d.code === 'syntax-error').map((d) => ({ ...d, severity: 'warning' as const, message: `${d.message} (in an imported module; definitions after it may be missing)` }));
    const m: ExtractedModule = { ...extracted, tasks: [], diagnostics: kept };
    byModule.set(name, m);
    followed.push(m);
    enqueueFrom(m);
  }
  if (options.app !== undefined && inputs.length > 0 && !byModule.get(options.app) && !byModule.get(`${options.app}.celery`)) {
    const under = roots.map((r) => displayPath(relative(cwd, r)) || '.').join(', ');
    diagnostics.push(fileDiagnostic(inputs[0]!.file, 'app-not-found', `--app ${options.app}: neither ${options.app} nor ${options.app}.celery is a module under the import root (${under})`));
  }
  return { inputs, inputModules, followed, filesRead, parses, diagnostics };
}

