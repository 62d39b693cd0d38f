/**
 * Time limits, as Python reports them: past the hard limit the task is FAILURE with
 * `billiard.exceptions.TimeLimitExceeded(<hard>)` (the class a Python client rebuilds
 * for real, since celery imports billiard), past the soft limit with
 * `SoftTimeLimitExceeded()`.
 *
 * A JS handler cannot be pre-empted: the worker stops *waiting* for it and reports the
 * failure, but a synchronous loop keeps the event loop until it returns, and an async
 * handler keeps running in the background (its eventual result is ignored). Handlers
 * that must stop can watch `signal` (aborted at the soft or hard limit, whichever comes first).
 */
import { TaskError } from '../protocol/errors.js';
import type { TaskOptions } from '../protocol/spec.js';

export const BILLIARD_EXCEPTIONS = 'billiard.exceptions';

/** The hard limit passed: the task's outcome is this error, reported as FAILURE. */
export class TimeLimitExceeded extends TaskError {
  constructor(taskId: string, seconds: number) {
    super({
      taskId,
      state: 'FAILURE',
      excType: 'TimeLimitExceeded',
      excMessage: [seconds],
      excModule: BILLIARD_EXCEPTIONS,
      traceback: `Traceback (most recent call last):\n  File "celery-gen worker", in time limit\nbilliard.exceptions.TimeLimitExceeded: ${seconds}\n`,
    });
    this.name = 'TimeLimitExceeded';
  }
}

/** The soft limit passed and the handler had not finished. */
export class SoftTimeLimitExceeded extends TaskError {
  constructor(taskId: string, seconds: number) {
    super({
      taskId,
      state: 'FAILURE',
      excType: 'SoftTimeLimitExceeded',
      excMessage: [],
      excModule: BILLIARD_EXCEPTIONS,
      traceback: `Traceback (most recent call last):\n  File "celery-gen worker", in soft time limit (${seconds} s)\nbilliard.exceptions.SoftTimeLimitExceeded: SoftTimeLimitExceeded()\n`,
    });
    this.name = 'SoftTimeLimitExceeded';
  }
}

export interface TimeLimits {
  readonly hard: number | null;
  readonly soft: number | null;
}

/**
 * The limits that apply to one message: the `timelimit` header `[hard, soft]` where set
 * (per call), else the task's decorator options, as Python's `Request.time_limits`.
 */
export function effectiveLimits(header: readonly [number | null, number | null], options: TaskOptions): TimeLimits {
  const positive = (n: number | null | undefined): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null);
  return {
    hard: positive(header[0]) ?? positive(options.time_limit),
    soft: positive(header[1]) ?? positive(options.soft_time_limit),
  };
}

/**
 * Awaits `run()` but no longer than the limits allow; the rejection is a
 * TimeLimitExceeded or SoftTimeLimitExceeded. `controller` is aborted when a limit hits.
 */
export function withTimeLimits<T>(run: () => Promise<T>, limits: TimeLimits, taskId: string, controller?: AbortController): Promise<T> {
  if (limits.hard === null && limits.soft === null) return run();
  return new Promise<T>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (action: () => void): void => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      action();
    };
    const expire = (error: Error): void =>
      finish(() => {
        controller?.abort(error);
        reject(error);
      });
    // The soft limit only matters before the hard one (Python ignores soft >= hard).
    if (limits.soft !== null && (limits.hard === null || limits.soft < limits.hard)) {
      const soft = limits.soft;
      timers.push(setTimeout(() => expire(new SoftTimeLimitExceeded(taskId, soft)), soft * 1000));
    }
    if (limits.hard !== null) {
      const hard = limits.hard;
      timers.push(setTimeout(() => expire(new TimeLimitExceeded(taskId, hard)), hard * 1000));
    }
    run().then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
