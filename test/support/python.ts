/**
 * The real Python Celery peer for interop tests: a probe that decides skip-or-fail, a
 * worker process on a private queue (always killed in teardown), and the client driver
 * (fixtures/interop/driver.py) that publishes with apply_async and prints JSON results.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BROKER_URL, brokerMissing } from './broker.js';

export const PYTHON = process.env.CELERY_GEN_PYTHON ?? '/usr/bin/python3';
export const INTEROP_DIR = fileURLToPath(new URL('../../fixtures/interop/', import.meta.url));

let probed: string | false | undefined;

/**
 * Why interop tests cannot run here (a reason for `{ skip }`), or false when they can.
 * Throws instead when CELERY_GEN_REQUIRE_PEERS=1 (CI): a missing peer fails the run.
 */
export function peerMissing(): string | false {
  if (probed === undefined) {
    const probe = spawnSync(PYTHON, ['-c', 'import celery, kombu, amqp; print(celery.__version__)'], { encoding: 'utf8' });
    probed =
      probe.status === 0
        ? false
        : `Python Celery is not importable by ${PYTHON} (install it: apt-get install -y python3-celery)`;
  }
  if (probed && process.env.CELERY_GEN_REQUIRE_PEERS === '1') {
    throw new Error(`${probed}; CELERY_GEN_REQUIRE_PEERS=1 requires the peer`);
  }
  return probed;
}

let djangoProbed: string | false | undefined;

/** Why the Django interop test cannot run (Django not importable by the peer's Python), or false; throws under CELERY_GEN_REQUIRE_PEERS=1. */
export function djangoMissing(): string | false {
  if (djangoProbed === undefined) {
    const probe = spawnSync(PYTHON, ['-c', 'import django'], { encoding: 'utf8' });
    djangoProbed = probe.status === 0 ? false : `Django is not importable by ${PYTHON} (install it: apt-get install -y python3-django)`;
  }
  if (djangoProbed && process.env.CELERY_GEN_REQUIRE_PEERS === '1') {
    throw new Error(`${djangoProbed}; CELERY_GEN_REQUIRE_PEERS=1 requires the peer`);
  }
  return djangoProbed;
}

/** Why interop tests (RabbitMQ and Python Celery) cannot run, or false; throws under CELERY_GEN_REQUIRE_PEERS=1. */
export async function interopSkip(): Promise<string | false> {
  return (await brokerMissing()) || peerMissing();
}

export interface PythonWorker {
  readonly process: ChildProcess;
  /** Everything the worker logged so far. */
  logs(): string;
  /** SIGTERM (warm shutdown), then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL now: a crash, leaving whatever it held unacked. */
  kill(): Promise<void>;
}

export interface PythonWorkerOptions {
  /** The `-A` module. @default 'tasks' */
  readonly app?: string;
  /** @default fixtures/interop */
  readonly cwd?: string;
  /** Added to the environment (after CELERY_GEN_BROKER, the test RabbitMQ). */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * Starts `celery -A <app> worker -P solo -Q <queue>` and resolves once it logged `ready.`;
 * the one place every test support module spawns a Python worker.
 */
export async function startPythonWorker(queue: string, options: PythonWorkerOptions = {}): Promise<PythonWorker> {
  const timeoutMs = options.timeoutMs ?? 30000;
  const child = spawn(
    PYTHON,
    ['-m', 'celery', '-A', options.app ?? 'tasks', 'worker', '-P', 'solo', '-Q', queue, '--without-gossip', '--without-mingle', '--without-heartbeat', '-l', 'info', '-n', `${queue}@%h`],
    {
      cwd: options.cwd ?? INTEROP_DIR,
      env: { ...process.env, CELERY_GEN_BROKER: BROKER_URL, PYTHONUNBUFFERED: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const worker: PythonWorker = {
    process: child,
    logs: () => log,
    async stop() {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (!alive()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.kill();
      reject(new Error(`Python worker not ready after ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      if (log.includes(' ready.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Python worker exited (${code ?? signal}) before it was ready:\n${log}`));
    });
  });
  return worker;
}

export interface PythonCall {
  readonly task: string;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  /** Extra apply_async options, e.g. `{ countdown: 1 }`. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Publish with app.send_task even when the app has the task (skips apply_async's argument check). */
  readonly by_name?: boolean;
  /** Seconds for AsyncResult.get(). @default 15 */
  readonly timeout?: number;
}

export type PythonOutcome =
  | { readonly ok: true; readonly id: string; readonly value: unknown }
  | {
      readonly ok: false;
      readonly id: string;
      readonly type: string;
      readonly module: string;
      readonly message: string;
      readonly args: unknown[];
      readonly state: string;
      readonly traceback: string | null;
    };

/** Runs the Python client driver: publishes every call to `queue`, then get()s each result. */
export async function runPythonClient(queue: string, calls: readonly PythonCall[], options: { protocol?: 1 | 2 } = {}): Promise<PythonOutcome[]> {
  const child = spawn(PYTHON, ['driver.py'], {
    cwd: INTEROP_DIR,
    env: { ...process.env, CELERY_GEN_BROKER: BROKER_URL },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.end(JSON.stringify({ queue, calls, protocol: options.protocol ?? 2 }));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`Python client exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout) as PythonOutcome[];
}
