/**
 * Fixture projects for the config, watch and API tests: small trees of Python task
 * modules written into a temporary folder, and the real CLI run over them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT_DIR } from './generator-fixtures.js';

export const BIN = join(ROOT_DIR, 'bin/celery-gen.js');

/** A task module with one task `name(x: <type>) -> int`. */
export function taskSource(name: string, type = 'int'): string {
  return `from celery import shared_task\n\n\n@shared_task\ndef ${name}(x: ${type}) -> int:\n    """Runs ${name}."""\n    return 1\n`;
}

/** Writes `files` (relative path → text) under `dir`, making folders as needed. */
export function writeTree(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI to completion (for commands that exit by themselves). */
export function runCli(args: readonly string[], cwd: string): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running CLI (--watch): its output so far, a wait for text in it, and its exit. */
export interface Running {
  output(): string;
  waitForOutput(pattern: RegExp, afterLength?: number, timeoutMs?: number): Promise<void>;
  interrupt(): Promise<number | null>;
}

export function startCli(args: readonly string[], cwd: string): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => text,
    waitForOutput: (pattern, afterLength = 0, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(text.slice(afterLength))) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${text}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/**
 * The CLI run as the unprivileged user `nobody` (through runuser), for what root cannot
 * be shown: a folder or file the user running celery-gen may not read. `cwd` must be
 * writable by nobody.
 */
export function runCliAsNobody(args: readonly string[], cwd: string): Run {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, BIN, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
