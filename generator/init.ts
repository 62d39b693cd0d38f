/**
 * `celery-gen init`: finds the task modules under a root (every `tasks.py`, or the
 * `--pattern` name) and writes a celery-gen.config.json that generates them. It looks
 * wider than Celery's autodiscover_tasks, which only searches the packages it is given,
 * and stays out of virtualenvs, node_modules, site-packages, migrations and tests.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { CeleryGenConfig } from './config.js';
import { NON_TASK_DIRS, isToolingDir } from './ignored-dirs.js';
import { displayPath, readFailure } from './inputs.js';
import { writeAtomically } from './output-file.js';

export const INIT_CONFIG_FILE = 'celery-gen.config.json';
export const DEFAULT_PATTERN = 'tasks.py';
export const DEFAULT_INIT_OUTPUT = 'src/tasks.ts';

/** `*` and `?` wildcards over one file name. */
function nameMatcher(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/**
 * Every file named like `pattern` under `root`, sorted by path (never readdir order), the
 * folders skipped on purpose, and the folders that could not be read (with the reason), so
 * a task module hidden in one is reported rather than silently missed.
 */
export function findTaskModules(root: string, pattern = DEFAULT_PATTERN): { files: string[]; skipped: string[]; unreadable: string[]; apps: string[] } {
  const match = nameMatcher(pattern);
  const files: string[] = [];
  const skipped: string[] = [];
  const unreadable: string[] = [];
  const apps: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      unreadable.push(`${dir} (${readFailure(error)})`);
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (isToolingDir(path) || NON_TASK_DIRS.has(e.name)) skipped.push(path);
        else walk(path);
      } else if (e.isFile() && match.test(e.name)) files.push(path);
      // Celery's convention for the app module (`proj/celery.py`, what `celery -A proj` finds).
      else if (e.isFile() && e.name === 'celery.py' && dir !== root) apps.push(path);
    }
  };
  walk(root);
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { files: files.sort(byPath), skipped: skipped.sort(byPath), unreadable: unreadable.sort(byPath), apps: apps.sort(byPath) };
}

export interface InitOptions {
  /** Where the config goes; the search starts here too. */
  readonly dir: string;
  readonly pattern?: string;
  readonly out?: string;
  readonly force?: boolean;
}

export type InitOutcome =
  | { readonly kind: 'exists'; readonly path: string }
  | { readonly kind: 'none-found'; readonly skipped: readonly string[]; readonly unreadable: readonly string[] }
  | {
      readonly kind: 'written';
      readonly path: string;
      readonly files: readonly string[];
      readonly skipped: readonly string[];
      readonly unreadable: readonly string[];
      readonly config: CeleryGenConfig;
      /** The `celery.py` files found (Celery's app modules): with exactly one, the config names its package as `app`. */
      readonly apps: readonly string[];
    };

/**
 * The config names the modules found, one by one, rather than a glob: what init listed
 * is exactly what gets generated, and a later glob match in a skipped folder cannot
 * sneak in. New modules are added to the list by hand or by running init --force again.
 */
export function initConfig(options: InitOptions): InitOutcome {
  const dir = resolve(options.dir);
  const path = join(dir, INIT_CONFIG_FILE);
  if (existsSync(path) && !options.force) return { kind: 'exists', path };
  const { files, skipped, unreadable, apps } = findTaskModules(dir, options.pattern ?? DEFAULT_PATTERN);
  if (files.length === 0) return { kind: 'none-found', skipped, unreadable };
  // `celery -A proj` finds proj/celery.py: the same name lets the generator read the app's
  // routes even when the task modules never import it (shared_task, Django apps).
  const app = apps.length === 1 ? relative(dir, dirname(apps[0]!)).split(/[\\/]/).join('.') : undefined;
  const config: CeleryGenConfig = {
    outputs: [{ output: options.out ?? DEFAULT_INIT_OUTPUT, inputs: files.map((f) => displayPath(relative(dir, f))), ...(app === undefined ? {} : { app }) }],
  };
  writeAtomically(path, `${JSON.stringify(config, null, 2)}\n`);
  return { kind: 'written', path, files, skipped, unreadable, config, apps };
}
