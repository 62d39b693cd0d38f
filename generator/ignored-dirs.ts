/**
 * Folders that hold no project task modules: tooling, caches and installed packages.
 * `init` never looks inside them and watch mode never watches them (a virtualenv or
 * node_modules can hold tens of thousands of files).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Skipped by name everywhere. */
export const TOOLING_DIRS: ReadonlySet<string> = new Set(['node_modules', 'site-packages', '.git', '.hg', '.svn', '__pycache__', '.venv', 'venv', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache']);

/** Skipped by `init` too: they hold Python but not task modules a client should call. */
export const NON_TASK_DIRS: ReadonlySet<string> = new Set(['migrations', 'tests', 'test']);

/** A virtualenv under any name: `python -m venv` writes pyvenv.cfg at its top. */
export function isVirtualenv(dir: string): boolean {
  return existsSync(join(dir, 'pyvenv.cfg'));
}

/** For a directory walk: whether to stay out of `dir`. */
export function isToolingDir(dir: string): boolean {
  return TOOLING_DIRS.has(basename(dir)) || isVirtualenv(dir);
}
