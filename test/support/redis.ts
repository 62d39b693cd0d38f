/**
 * Helpers for the Redis interop tests: the databases they own (13 broker, 14 backend,
 * flushed around every test file, never db 0), the Python peer (fixtures/redis-interop:
 * a worker on a private queue, killed in teardown, and a one-command client driver), and
 * the skip-or-fail decision when the peer is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { takePidLock } from './pid-lock.js';
import { startPythonWorker, type PythonWorker } from './python.js';

export const PYTHON = process.env.CELERY_GEN_PYTHON ?? '/usr/bin/python3';
export const REDIS_BROKER_DB = 13;
export const REDIS_BACKEND_DB = 14;
export const REDIS_BROKER_URL = `redis://127.0.0.1:6379/${REDIS_BROKER_DB}`;
export const REDIS_BACKEND_URL = `redis://127.0.0.1:6379/${REDIS_BACKEND_DB}`;
export const AMQP_URL = process.env.CELERY_GEN_BROKER ?? 'amqp://guest:guest@127.0.0.1:5672//';
export const REDIS_INTEROP_DIR = fileURLToPath(new URL('../../fixtures/redis-interop/', import.meta.url));

let probed: string | false | undefined;

/**
 * Why the Redis interop tests cannot run here (a `{ skip }` reason), or false when they can.
 * With CELERY_GEN_REQUIRE_PEERS=1 (CI) a missing peer throws instead, failing the run.
 */
export function redisPeerMissing(): string | false {
  if (probed === undefined) {
    const python = spawnSync(PYTHON, ['-c', 'import celery, kombu, redis; print(celery.__version__)'], { encoding: 'utf8' });
    const server = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { encoding: 'utf8' });
    if (python.status !== 0) probed = `Python Celery with redis-py is not importable by ${PYTHON} (install: apt-get install -y python3-celery python3-redis)`;
    else if (server.status !== 0 || !server.stdout.includes('PONG')) probed = 'Redis is not answering on 127.0.0.1:6379 (install and start: apt-get install -y redis-server && redis-server --daemonize yes)';
    else probed = false;
  }
  if (probed && process.env.CELERY_GEN_REQUIRE_PEERS === '1') throw new Error(`${probed}; CELERY_GEN_REQUIRE_PEERS=1 requires the peer`);
  return probed;
}

const LOCK_PATH = join(tmpdir(), 'celery-gen-redis-tests.lock');
let lockHeld = false;

/**
 * Serialises the Redis test files of every run on this machine (a lock file holding the
 * pid; a dead holder's lock is taken over). The files FLUSHDB databases 13 and 14 in
 * setup and teardown, which would wipe the messages of another run's tests mid-flight
 * when two runs share one Redis, as parallel sessions do. Released when the process exits.
 */
export async function holdRedisTestLock(timeoutMs = 600_000): Promise<void> {
  if (lockHeld) return;
  const lock = await takePidLock(LOCK_PATH, timeoutMs, 200);
  if (!lock.taken) throw new Error(`another run has held ${LOCK_PATH} (pid ${lock.holder}) for ${timeoutMs} ms`);
  lockHeld = true;
}

/** `cg_test_<file>_<random>`: no two test files (or runs) share a queue. */
export function uniqueQueue(file: string): string {
  return `cg_test_${file}_${randomBytes(4).toString('hex')}`;
}

/** A plain client on one of our test databases (never db 0). */
export function rawRedis(db: number): Redis {
  if (db === 0) throw new Error('tests must not touch Redis db 0');
  const client = new Redis({ host: '127.0.0.1', port: 6379, db, maxRetriesPerRequest: 3, lazyConnect: false });
  client.on('error', (error: unknown) => process.stderr.write(`# raw redis client error: ${String(error)}\n`));
  return client;
}

export async function flushTestDbs(): Promise<void> {
  await holdRedisTestLock();
  for (const db of [REDIS_BROKER_DB, REDIS_BACKEND_DB]) {
    const client = rawRedis(db);
    try {
      await client.flushdb();
    } finally {
      client.disconnect();
    }
  }
}

/** The Python app's environment: which broker and backend it uses, and its visibility timeout. */
export interface PeerConfig {
  readonly broker: string;
  readonly backend: string;
  /** Seconds. @default 3600 */
  readonly visibilityTimeout?: number;
}

/** How fixtures/redis-interop/redis_tasks.py learns its broker, backend and visibility timeout. */
function peerVariables(config: PeerConfig): Record<string, string> {
  return { CG_BROKER: config.broker, CG_BACKEND: config.backend, CG_VISIBILITY: String(config.visibilityTimeout ?? 3600) };
}

function peerEnv(config: PeerConfig): NodeJS.ProcessEnv {
  return { ...process.env, ...peerVariables(config), PYTHONUNBUFFERED: '1' };
}

/** A Python worker of fixtures/redis-interop; the same handle as an AMQP one. */
export type PythonRedisWorker = PythonWorker;

/** Starts `celery -A redis_tasks worker -P solo -Q <queue>` and resolves once it logged `ready.`. */
export function startPythonRedisWorker(queue: string, config: PeerConfig, timeoutMs = 30_000): Promise<PythonRedisWorker> {
  return startPythonWorker(queue, { app: 'redis_tasks', cwd: REDIS_INTEROP_DIR, env: peerVariables(config), timeoutMs });
}

export type PythonOutcome =
  | { readonly ok: true; readonly id: string; readonly value: unknown; readonly group?: string | null }
  | {
      readonly ok: false;
      readonly id: string;
      readonly type: string;
      readonly module: string;
      readonly message: string;
      readonly args: unknown[];
      readonly state: string;
      readonly traceback: string | null;
      readonly group?: string | null;
    };

/** Runs one driver.py command (see its docstring) and returns its JSON answer. */
export async function runDriver<T = unknown>(command: Readonly<Record<string, unknown>>, config: PeerConfig): Promise<T> {
  const child = spawn(PYTHON, ['driver.py'], { cwd: REDIS_INTEROP_DIR, env: peerEnv(config), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.end(JSON.stringify(command));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`Python driver exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout) as T;
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
