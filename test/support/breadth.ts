/**
 * Helpers for the protocol-breadth interop tests (test/breadth-*.test.ts): the Python
 * worker and client driver of fixtures/breadth, and the `celery` CLI run against it.
 */
import { spawn } from 'node:child_process';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Celery, type Worker, type WorkerOptions } from 'celery-gen';
import { createWorker, type TaskHandlers } from '../../fixtures/breadth/tasks.js';
import { BROKER_URL, memoryLogger, rawBroker, type RawBroker } from './broker.js';
import { PYTHON, startPythonWorker, type PythonOutcome, type PythonWorker } from './python.js';

export const BREADTH_DIR = fileURLToPath(new URL('../../fixtures/breadth/', import.meta.url));

/** A Python worker (`-P solo`) of the breadth app on `queues`. */
export function startBreadthWorker(queues: readonly string[]): Promise<PythonWorker> {
  return startPythonWorker(queues.join(','), { cwd: BREADTH_DIR });
}

/** Handlers for every breadth task that just answer; a test overrides the ones it watches. */
export function breadthHandlers(overrides: Partial<TaskHandlers> = {}): TaskHandlers {
  return {
    add: (x, y) => x + y,
    mul: (x, y) => x * y,
    stamp: () => [Date.now() / 1000],
    sleepFor: (seconds) => seconds,
    fail: (message) => {
      throw new Error(message);
    },
    onError: (id) => `errback:${id}`,
    flaky: (ctx) => ctx.retries,
    echoPacked: (value) => value,
    prioritized: (tag) => tag,
    limited: () => [Date.now() / 1000],
    tooSlow: (seconds) => seconds,
    ...overrides,
  };
}

/** What {@link useBreadthPeers} starts; each field is set once the describe's `before` hook ran. */
export interface BreadthPeers {
  app: Celery;
  worker: Worker;
  broker: RawBroker;
}

export interface BreadthPeerOptions {
  /** The queue the TS worker consumes. */
  readonly tsQueue: string;
  /** When set, a Python worker of the breadth app consumes it. */
  readonly pyQueue?: string;
  /** Further queues the test creates, deleted after it. */
  readonly extraQueues?: readonly string[];
  readonly worker?: Omit<WorkerOptions, 'queues' | 'handleSignals'>;
}

/**
 * Registers the enclosing describe's hooks for the two-sided breadth tests: a TS worker of
 * the breadth app on RabbitMQ (rpc:// results), optionally a Python worker, and a raw
 * channel; `after` stops whatever `before` got to start and deletes the queues.
 */
export function useBreadthPeers(handlers: TaskHandlers, options: BreadthPeerOptions): BreadthPeers {
  const peers: Partial<BreadthPeers> = {};
  let python: PythonWorker | undefined;
  before(async () => {
    peers.app = new Celery({ broker: BROKER_URL, logger: memoryLogger().logger });
    peers.worker = createWorker(peers.app, handlers, { ...options.worker, queues: [options.tsQueue], handleSignals: false });
    await peers.worker.start();
    if (options.pyQueue !== undefined) python = await startBreadthWorker([options.pyQueue]);
    peers.broker = await rawBroker();
  });
  after(async () => {
    await peers.worker?.stop();
    await peers.app?.close();
    await python?.stop();
    const queues = [options.tsQueue, ...(options.pyQueue === undefined ? [] : [options.pyQueue]), ...(options.extraQueues ?? [])];
    await peers.broker?.close(queues);
  });
  return peers as BreadthPeers;
}

interface Spawned {
  stdout: string;
  stderr: string;
  code: number | null;
}

function run(args: readonly string[], input: string | undefined, onStderr?: (text: string) => void, broker: string = BROKER_URL): { done: Promise<Spawned>; kill(): void } {
  const child = spawn(PYTHON, args, { cwd: BREADTH_DIR, env: { ...process.env, CELERY_GEN_BROKER: broker }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
    onStderr?.(stderr);
  });
  child.stdin.end(input ?? '');
  const done = new Promise<Spawned>((resolve) => child.once('exit', (code) => resolve({ stdout, stderr, code })));
  return { done, kill: () => child.kill('SIGKILL') };
}

export interface BreadthCall {
  readonly task: string;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly timeout?: number;
}

/** Publishes every call with Python's apply_async (through `broker`, the test RabbitMQ by default), then get()s each. */
export async function pythonCalls(calls: readonly BreadthCall[], broker: string = BROKER_URL): Promise<PythonOutcome[]> {
  const { done } = run(['driver.py'], JSON.stringify({ op: 'calls', calls }), undefined, broker);
  const out = await done;
  if (out.code !== 0) throw new Error(`Python driver exited with ${out.code}:\n${out.stderr}`);
  return JSON.parse(out.stdout) as PythonOutcome[];
}

export interface ChainStep {
  readonly task: string;
  readonly args?: readonly unknown[];
  readonly queue: string;
  readonly immutable?: boolean;
}

/** Python `chain(*steps).apply_async().get()`. */
export async function pythonChain(steps: readonly ChainStep[], timeout = 15): Promise<PythonOutcome & { ids: string[] }> {
  const { done } = run(['driver.py'], JSON.stringify({ op: 'chain', steps, timeout }));
  const out = await done;
  if (out.code !== 0) throw new Error(`Python driver exited with ${out.code}:\n${out.stderr}`);
  return JSON.parse(out.stdout) as PythonOutcome & { ids: string[] };
}

export interface CapturedEvents {
  events: Record<string, unknown>[];
  tasks: Record<string, { state: string; name: string | null; worker: string | null; result: unknown; exception: unknown; retries: number | null }>;
  workers: Record<string, { sw_ident: string | null; processed: number | null; heartbeats: number }>;
}

/**
 * Starts Python's `app.events.Receiver`; resolves once it consumes. `result` resolves when
 * it saw `stopOn` (or after `seconds`), with the events and what `app.events.State` made of them.
 */
export async function pythonEventReceiver(seconds: number, stopOn: string): Promise<{ result: Promise<CapturedEvents>; kill(): void }> {
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const child = run(['driver.py'], JSON.stringify({ op: 'events', seconds, stop_on: stopOn }), (stderr) => {
    if (stderr.includes('READY')) ready();
  });
  const result = child.done.then((out) => {
    if (out.code !== 0) throw new Error(`Python event receiver exited with ${out.code}:\n${out.stderr}`);
    return JSON.parse(out.stdout) as CapturedEvents;
  });
  await Promise.race([isReady, result.then(() => undefined)]);
  return { result, kill: child.kill };
}

/** Runs `python -m celery -A tasks <args>` in fixtures/breadth (against `broker`, the test RabbitMQ by default). */
export async function celeryCli(args: readonly string[], broker: string = BROKER_URL): Promise<Spawned> {
  return run(['-m', 'celery', '-A', 'tasks', ...args], undefined, undefined, broker).done;
}
