/**
 * ETA/countdown and expiry on the worker, as Python's `strategy.py` does it: a message
 * whose eta is in the future stays unacked in memory (the prefetch window grows by one
 * so other deliveries keep flowing) and runs when due; an expired message is not run,
 * its result is REVOKED (`TaskRevokedError('expired')`) and it is acked.
 */
import { parseIso } from './message.js';

/** Milliseconds until `eta` (0 when absent or past). `eta` was validated by the decoder. */
export function etaDelayMs(eta: string | null, now: number = Date.now()): number {
  if (eta === null) return 0;
  const at = parseIso(eta);
  return at === null ? 0 : Math.max(0, at - now);
}

/** True when `expires` is set and already passed (`Request.maybe_expire`). */
export function isExpired(expires: string | null, now: number = Date.now()): boolean {
  if (expires === null) return false;
  const at = parseIso(expires);
  return at !== null && now > at;
}

// setTimeout fires at once for delays above 2^31-1 ms (~24.8 days): long ETAs wait in steps.
const MAX_TIMER_MS = 0x7fff_ffff;

interface Held<T> {
  readonly item: T;
  readonly dueAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Messages held until their eta. `release` runs each one when due; `cancel` takes one out
 * early (revoked), `drain` takes all out (shutdown: the caller leaves them unacked so the
 * broker redelivers them).
 */
export class EtaSchedule<T> {
  readonly #held = new Map<string, Held<T>>();
  readonly #release: (item: T) => void;

  constructor(release: (item: T) => void) {
    this.#release = release;
  }

  get size(): number {
    return this.#held.size;
  }

  hold(key: string, item: T, dueAt: number): void {
    const arm = (): NodeJS.Timeout => {
      const wait = Math.min(Math.max(0, dueAt - Date.now()), MAX_TIMER_MS);
      return setTimeout(() => {
        const held = this.#held.get(key);
        if (!held) return;
        if (Date.now() < dueAt) {
          held.timer = arm();
          return;
        }
        this.#held.delete(key);
        this.#release(held.item);
      }, wait);
    };
    this.#held.set(key, { item, dueAt, timer: arm() });
  }

  has(key: string): boolean {
    return this.#held.has(key);
  }

  cancel(key: string): T | undefined {
    const held = this.#held.get(key);
    if (!held) return undefined;
    clearTimeout(held.timer);
    this.#held.delete(key);
    return held.item;
  }

  /** Held items with their due times, soonest first (`inspect scheduled`). */
  entries(): { key: string; item: T; dueAt: number }[] {
    return [...this.#held.entries()].map(([key, h]) => ({ key, item: h.item, dueAt: h.dueAt })).sort((a, b) => a.dueAt - b.dueAt);
  }

  drain(): T[] {
    const items = [...this.#held.values()];
    for (const held of items) clearTimeout(held.timer);
    this.#held.clear();
    return items.map((h) => h.item);
  }
}
