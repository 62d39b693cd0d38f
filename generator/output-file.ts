/**
 * Generated files on disk: written atomically, written only when their bytes change, and
 * compared for `--check`. The single-file CLI and config runs share these helpers.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { unifiedDiff } from './unified-diff.js';

/** Writes via a temporary file in the same directory and a rename, so readers never see half a file. */
export function writeAtomically(path: string, text: string): void {
  const dir = dirname(resolve(path));
  mkdirSync(dir, { recursive: true });
  // pid plus a random suffix: unique enough for a file that lives a millisecond, and
  // node:crypto would cost a plain generate run ~8 ms just to load.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Writes only when the bytes differ: an unchanged file keeps its mtime, so a TypeScript
 * watcher downstream is not woken for nothing. Returns whether it wrote.
 */
export function writeIfChanged(path: string, text: string): boolean {
  if (readIfExists(path) === text) return false;
  writeAtomically(path, text);
  return true;
}

/** What `--check` found for one output. */
export type CheckState = 'current' | 'stale' | 'missing';

/** Compares a generated text with the file on disk; `diff` is a unified diff when not current. */
export function checkOutput(path: string, text: string, label = path): { state: CheckState; diff: string } {
  const current = readIfExists(path);
  if (current === text) return { state: 'current', diff: '' };
  const diff = unifiedDiff(current ?? '', text, current === null ? '/dev/null' : `${label} (on disk)`, `${label} (generated)`);
  return { state: current === null ? 'missing' : 'stale', diff };
}
