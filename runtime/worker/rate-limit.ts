/**
 * Per-task rate limits on the worker, as Python's `rate_limit=` decorator option:
 * `'10/s'`, `'100/m'`, `'1000/h'` or a number (per second), enforced per worker with a
 * token bucket of capacity one (kombu's `TokenBucket` as Celery's worker uses it). A task
 * over its rate is held, like an ETA message, until its token is due: it does not take a
 * concurrency slot meanwhile.
 */

/** Tasks per second, or null for no limit (`None`, `0`, unparsable). */
export function parseRate(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  if (!(n > 0)) return null;
  const per = m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 1;
  return n / per;
}

/** Reserves run times `1 / rate` seconds apart. */
export class TokenBucket {
  readonly #intervalMs: number;
  #nextFree = 0;

  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond;
  }

  /** The time (epoch ms) the next task may run; reserves it. */
  reserve(now: number = Date.now()): number {
    const at = Math.max(now, this.#nextFree);
    this.#nextFree = at + this.#intervalMs;
    return at;
  }
}
