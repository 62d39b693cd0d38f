/**
 * Finding and reading the config file, with lilconfig: from a directory upward,
 * celery-gen.config.json, .mjs, .js (default export), then a "celery-gen" key in
 * package.json; or exactly the file `--config` names. Loaded lazily by the CLI, so a
 * plain generate run never pays for it.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CeleryGenConfig, type ConfigSource, configDiagnostic, validateConfig } from './config.js';
import { type Diagnostic, LineMap } from './diagnostics.js';
import { displayPath } from './inputs.js';
import { importModule } from './module-import.js';

export const CONFIG_NAME = 'celery-gen';
/** In the order a folder is searched. */
export const CONFIG_FILES = ['celery-gen.config.json', 'celery-gen.config.mjs', 'celery-gen.config.js', 'package.json'] as const;

export interface LoadedConfig {
  readonly config: CeleryGenConfig;
  /** Absolute path of the file it came from. */
  readonly path: string;
  /** Relative paths in the config are relative to this folder. */
  readonly dir: string;
  readonly source: ConfigSource;
}

export type LoadOutcome = { readonly loaded: LoadedConfig } | { readonly diagnostics: readonly Diagnostic[] } | { readonly notFound: string };

/** JSON.parse, with a syntax error turned into a positioned diagnostic. */
class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

function parseJson(_path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const offset = Number(/position (\d+)/.exec(message)?.[1] ?? 0);
    throw new JsonSyntaxError(offset, message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, ''));
  }
}

/**
 * A module config's default export. lilconfig's own loader retries a failed import with
 * require(), whose error then hides the real one (a syntax error, say).
 */
async function importDefault(path: string, fresh: boolean): Promise<unknown> {
  // A query makes a new module: import() caches by URL, and watch mode reloads edited configs.
  const url = `${pathToFileURL(path).href}${fresh ? `?reload=${Date.now()}` : ''}`;
  return ((await importModule(url)) as { default?: unknown }).default;
}

/**
 * Finds (or, with `explicit`, reads) the config and validates it. Paths in messages are
 * relative to `cwd`. `fresh` reads a module config again even if this process imported it.
 */
export async function loadConfig(cwd: string, explicit?: string, fresh = false): Promise<LoadOutcome> {
  // Imported here, not at the top: a one-file bundle of the CLI would otherwise load it on every run.
  const { lilconfig } = await import('lilconfig');
  const searcher = lilconfig(CONFIG_NAME, {
    searchPlaces: [...CONFIG_FILES],
    loaders: { '.json': parseJson, '.mjs': (p: string) => importDefault(p, fresh), '.js': (p: string) => importDefault(p, fresh) },
    // Up to the filesystem root: a project need not live under the home directory.
    stopDir: resolve('/'),
  });
  const shown = (abs: string) => displayPath(relative(cwd, abs) || basename(abs));
  let result: Awaited<ReturnType<typeof searcher.search>>;
  let attempted = explicit === undefined ? undefined : resolve(cwd, explicit);
  try {
    result = attempted === undefined ? await searcher.search(cwd) : await searcher.load(attempted);
  } catch (err) {
    // lilconfig does not say which file failed while searching: the first one it would load.
    const file = attempted ?? firstCandidate(cwd) ?? cwd;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && attempted !== undefined) return { diagnostics: [configDiagnostic({ path: shown(file) }, [], 'no such config file')] };
    if (err instanceof JsonSyntaxError) {
      const pos = new LineMap(readFileSync(file, 'utf8')).position(err.offset);
      return { diagnostics: [{ file: shown(file), line: pos.line, column: pos.column, endLine: pos.line, endColumn: pos.column, severity: 'error', code: 'config', message: `invalid JSON: ${err.message}` }] };
    }
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return { diagnostics: [configDiagnostic({ path: shown(file) }, [], `cannot load the config: ${message}`)] };
  }
  if (result === null) return { notFound: cwd };
  const path = result.filepath;
  const isPackageJson = basename(path) === 'package.json';
  const source: ConfigSource = {
    path: shown(path),
    ...(path.endsWith('.json') ? { text: readFileSync(path, 'utf8') } : {}),
    ...(isPackageJson ? { prefix: [CONFIG_NAME] } : {}),
  };
  if (isPackageJson && result.config === undefined) return { diagnostics: [configDiagnostic(source, [], `package.json has no "${CONFIG_NAME}" key`)] };
  const checked = validateConfig(result.config, source);
  if (checked.config === null) return { diagnostics: checked.diagnostics };
  return { loaded: { config: checked.config, path, dir: dirname(path), source } };
}

/** The file lilconfig loads first from `cwd` upward: a config file, or a package.json that does not parse or has the key. */
function firstCandidate(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of CONFIG_FILES) {
      const path = resolve(dir, name);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      if (name !== 'package.json') return path;
      try {
        if ((JSON.parse(text) as Record<string, unknown>)[CONFIG_NAME] !== undefined) return path;
      } catch {
        return path;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
