/**
 * Broker URL lists (kombu's failover): `broker` is one URL, a `;`-separated list as Celery's
 * `broker_url` takes it, or an array. The transport connects to the first and, on a failed
 * connect or a lost connection, moves on round-robin (Celery's default
 * `broker_failover_strategy`). Pure: parsing and the rotation, no sockets.
 */
import { CeleryGenError } from './errors.js';

/** The URLs of a broker setting, in order; whitespace around each is ignored, empty entries dropped. */
export function parseBrokerUrls(broker: string | readonly string[]): string[] {
  const urls = (typeof broker === 'string' ? broker.split(';') : broker.flatMap((entry) => entry.split(';'))).map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw new CeleryGenError('BAD_BROKER_URL', 'broker names no URL');
  return urls;
}

/** Round-robin over a URL list: `current` until `advance()` moves to the next (wrapping around). */
export class UrlRotation {
  readonly urls: readonly string[];
  #index = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new RangeError('a URL rotation needs at least one URL');
    this.urls = urls;
  }

  get current(): string {
    return this.urls[this.#index]!;
  }

  get index(): number {
    return this.#index;
  }

  /** Moves to the next URL and returns it. */
  advance(): string {
    this.#index = (this.#index + 1) % this.urls.length;
    return this.current;
  }
}
