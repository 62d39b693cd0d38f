/**
 * The benchmark harness: every benchmark compares our code with a baseline doing the
 * same work, in the same run, because absolute times drift on shared machines.
 * A comparison reports both medians and their ratio against a target.
 */
import { performance } from 'node:perf_hooks';

export interface Comparison {
  readonly name: string;
  /** What we measure (our code) and what we compare it with. */
  readonly ours: number;
  readonly baseline: number;
  readonly unit: string;
  /** 'higher' when a bigger number is better (rates), 'lower' for times. */
  readonly better: 'higher' | 'lower';
  /** The ratio we aim for: ours/baseline at least this (higher) or at most this (lower). */
  readonly target: number;
}

/** Median wall time in milliseconds of `runs` calls of `fn`, after `warmup` calls. */
export async function medianMs(fn: () => unknown, runs = 7, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Runs `job(0)`..`job(n - 1)` with at most `window` in flight, as a publisher with a bounded confirm window does. */
export async function windowed(n: number, window: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, lane));
}

/**
 * Rates per second of two publishers, `ours` and `raw`, measured in `chunks` alternating
 * chunks of `chunk` jobs with `window` in flight (which goes first alternates too), so both
 * see the same broker and machine conditions, which drift on a shared machine; after one
 * untimed chunk of each.
 */
export async function alternatingRates(
  chunks: number,
  chunk: number,
  window: number,
  ours: (i: number) => Promise<unknown>,
  raw: (i: number) => Promise<unknown>,
): Promise<{ ours: number; raw: number }> {
  const seconds = { ours: 0, raw: 0 };
  const timed = async (side: 'ours' | 'raw') => {
    const start = performance.now();
    await windowed(chunk, window, side === 'ours' ? ours : raw);
    seconds[side] += (performance.now() - start) / 1000;
  };
  // One untimed chunk each first: steady-state rates, not the JIT warming up our encoder
  // (the raw side has nothing of its own to warm).
  await windowed(chunk, window, raw);
  await windowed(chunk, window, ours);
  for (let i = 0; i < chunks; i++) {
    for (const side of i % 2 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const)) await timed(side);
  }
  return { ours: (chunk * chunks) / seconds.ours, raw: (chunk * chunks) / seconds.raw };
}

/** A worker set up by a drain benchmark, connected but not yet consuming. */
export interface DrainWorker {
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Tasks per second for a worker to run `n` tasks already queued. `setup` gets the callback
 * each task run must call and returns the worker once it is connected, so the clock
 * measures consuming only. Structural (no runtime import): runtime.bench.ts loads the
 * runtime from the packed build.
 */
export async function drainRate(n: number, setup: (ran: () => void) => Promise<DrainWorker>): Promise<number> {
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = await setup(() => {
    if (++done === n) finish();
  });
  const start = performance.now();
  await worker.start();
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await worker.close();
  return n / seconds;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Prints one line per comparison and returns false when any misses its target. */
export function report(comparisons: readonly Comparison[]): boolean {
  let ok = true;
  for (const c of comparisons) {
    const ratio = c.ours / c.baseline;
    const met = c.better === 'higher' ? ratio >= c.target : ratio <= c.target;
    ok &&= met;
    const aim = `${c.better === 'higher' ? '>=' : '<='} ${c.target}x`;
    console.log(
      `${c.name}: ours ${c.ours.toFixed(2)} ${c.unit}, baseline ${c.baseline.toFixed(2)} ${c.unit}, ratio ${ratio.toFixed(2)}x (aim ${aim}) ${met ? 'ok' : 'MISSED'}`,
    );
  }
  return ok;
}
