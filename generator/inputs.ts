/**
 * Reading input files: bytes → text (UTF-8, as Python reads source without a coding
 * cookie), and the dotted module name Python would import each file as.
 */
import { isUtf8 } from 'node:buffer';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { type Diagnostic, LineMap, diagnosticAt, fileDiagnostic } from './diagnostics.js';

export interface SourceInput {
  /** The path as given (forward slashes), used in diagnostics and the manifest. */
  readonly file: string;
  readonly module: string;
  readonly text: string;
}

export interface ReadOptions {
  /** Module name for a single input, instead of deriving it. */
  readonly module?: string;
  /** Import root: module names are the paths relative to it. */
  readonly root?: string;
  /**
   * The Celery app's module, as `celery -A` takes it: `proj` and `proj.celery` are read
   * like imports (for the app's routes and default queue) even when no input imports them.
   */
  readonly app?: string;
  /** Directory relative paths are resolved against. @default process.cwd() */
  readonly cwd?: string;
}

export function displayPath(path: string): string {
  return path.split(sep).join('/');
}

/** Reads every file; unreadable or undecodable files become diagnostics (no input). */
export function readInputs(paths: readonly string[], options: ReadOptions = {}): { inputs: SourceInput[]; diagnostics: Diagnostic[] } {
  const inputs: SourceInput[] = [];
  const diagnostics: Diagnostic[] = [];
  if (options.module !== undefined && paths.length > 1) {
    diagnostics.push(fileDiagnostic(displayPath(paths[1]!), 'module-name', '--module names a single input, but several files were given'));
    return { inputs, diagnostics };
  }
  for (const path of paths) {
    const file = displayPath(path);
    const abs = resolve(options.cwd ?? '.', path);
    let bytes: Buffer;
    try {
      bytes = readFileSync(abs);
    } catch (err) {
      diagnostics.push(fileDiagnostic(file, 'unreadable-file', `cannot read file: ${readFailure(err)}`));
      continue;
    }
    const decoded = decodeSource(file, bytes);
    if ('diagnostic' in decoded) {
      diagnostics.push(decoded.diagnostic);
      continue;
    }
    const module = options.module ?? moduleNameOf(abs, options.root === undefined ? undefined : resolve(options.cwd ?? '.', options.root));
    if (typeof module !== 'string') {
      diagnostics.push(fileDiagnostic(file, 'module-name', module.error));
      continue;
    }
    inputs.push({ file, module, text: decoded.text });
  }
  return { inputs, diagnostics };
}

/** UTF-8 text without a BOM; invalid bytes or NUL (which Python rejects) are positioned errors. */
export function decodeSource(file: string, bytes: Uint8Array): { text: string } | { diagnostic: Diagnostic } {
  // Node's native check first; the byte-by-byte search only runs to place an error.
  const bad = isUtf8(bytes) ? -1 : firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const prefix = new TextDecoder().decode(bytes.subarray(0, bad));
    const lines = new LineMap(prefix);
    return { diagnostic: diagnosticAt(file, lines, prefix.length, prefix.length, 'error', 'invalid-encoding', `invalid UTF-8 byte 0x${bytes[bad]!.toString(16).padStart(2, '0')}; Python source must be UTF-8`) };
  }
  let text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    return { diagnostic: diagnosticAt(file, new LineMap(text), nul, nul + 1, 'error', 'invalid-encoding', 'source contains a NUL byte; Python refuses such files') };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text };
}

/** Index of the first byte that starts an invalid UTF-8 sequence, or -1. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) (n = 1), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (n = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (n = 3), (min = 0x10000);
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * The module name Python would import `path` as: with `root`, the path relative to it;
 * otherwise walking up while the directory holds an `__init__.py`
 * (`proj/tasks.py` in package `proj` → `proj.tasks`; a lone `tasks.py` → `tasks`).
 */
export function moduleNameOf(path: string, root?: string): string | { error: string } {
  const abs = resolve(path);
  const stem = basename(abs).replace(/\.pyi?$/, '');
  let parts: string[];
  if (root !== undefined) {
    const rel = relative(resolve(root), abs);
    if (rel.startsWith('..') || rel === '' || resolve(root) === abs) return { error: `file is not under --root ${root}` };
    parts = rel.split(sep);
    parts[parts.length - 1] = stem;
  } else {
    parts = [stem];
    let dir = dirname(abs);
    while (existsSync(join(dir, '__init__.py'))) {
      parts.unshift(basename(dir));
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  if (parts[parts.length - 1] === '__init__') parts.pop();
  if (parts.length === 0) return { error: 'cannot derive a module name; pass --module' };
  return parts.join('.');
}

/** Why a file could not be read, in words (the errno code when it is none of the usual ones). */
export function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
}
