/**
 * Redis connections for the broker and the result backend: URL parsing as Celery and
 * kombu read `redis://` / `rediss://` URLs, password redaction, and ioredis clients that
 * reconnect with capped, jittered backoff. Knows nothing about Celery messages.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';

/** The logging surface this module needs; `runtime/observability/logger.ts`'s `Logger` satisfies it. */
export interface RedisLog {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const SILENT_REDIS_LOG: RedisLog = { debug() {}, info() {}, warn() {}, error() {} };

/** What a Redis URL says, after Celery's rules (`celery/backends/redis.py _params_from_url`). */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  /** Set for `rediss://`: TLS options for `tls.connect`. */
  readonly tls?: ConnectionOptions;
  /** The URL with its password replaced by `***`, for logs and errors. */
  readonly redacted: string;
}

/** A Redis connection or configuration failure; its message never contains a password. */
export class RedisTransportError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(redactRedisSecrets(message), options);
    this.name = 'RedisTransportError';
    this.code = code;
  }
}

/** `redis://:secret@host/0` → `redis://:***@host/0`; any URL-shaped password in a text. */
export function redactRedisSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

/** Celery spells certificate requirements as Python's ssl constants. */
const CERT_REQS: Record<string, boolean> = {
  CERT_REQUIRED: true,
  required: true,
  CERT_OPTIONAL: false,
  optional: false,
  CERT_NONE: false,
  none: false,
};

/**
 * Parses `redis://[[user]:password@]host[:port][/db][?ssl_cert_reqs=...]` and the TLS form
 * `rediss://`. TLS query parameters are Celery's (`ssl_ca_certs`, `ssl_certfile`,
 * `ssl_keyfile`, `ssl_cert_reqs`); on a plain `redis://` URL they are an error, as in Celery.
 */
export function parseRedisUrl(url: string, tlsOverrides: ConnectionOptions = {}): RedisEndpoint {
  const redacted = redactRedisSecrets(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisTransportError('BAD_URL', `not a Redis URL: ${redacted}`);
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw new RedisTransportError('BAD_URL', `not a Redis URL (redis:// or rediss://): ${redacted}`);
  }
  const dbText = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '') || parsed.searchParams.get('virtual_host') || '0';
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new RedisTransportError('BAD_URL', `Redis database must be a number, got '${dbText}' in ${redacted}`);

  const sslKeys = ['ssl_ca_certs', 'ssl_certfile', 'ssl_keyfile', 'ssl_cert_reqs'];
  const present = sslKeys.filter((k) => parsed.searchParams.has(k));
  let tls: ConnectionOptions | undefined;
  if (scheme === 'redis' && present.length > 0) {
    throw new RedisTransportError('BAD_URL', `TLS parameters (${present.join(', ')}) need the rediss:// scheme: ${redacted}`);
  }
  if (scheme === 'rediss') {
    const options: { -readonly [K in keyof ConnectionOptions]: ConnectionOptions[K] } = { servername: parsed.hostname };
    const reqs = parsed.searchParams.get('ssl_cert_reqs');
    if (reqs !== null) {
      const verify = CERT_REQS[reqs];
      if (verify === undefined) throw new RedisTransportError('BAD_URL', `ssl_cert_reqs must be CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE in ${redacted}`);
      options.rejectUnauthorized = verify;
    }
    const ca = parsed.searchParams.get('ssl_ca_certs');
    const cert = parsed.searchParams.get('ssl_certfile');
    const key = parsed.searchParams.get('ssl_keyfile');
    if (ca) options.ca = readFileSync(ca);
    if (cert) options.cert = readFileSync(cert);
    if (key) options.key = readFileSync(key);
    tls = { ...options, ...tlsOverrides };
  }
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    redacted,
  };
}

/** Capped exponential backoff with full jitter (milliseconds). */
export function backoffDelay(attempt: number, initial = 100, max = 10_000): number {
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export interface RedisClientOptions {
  /** Shown by `CLIENT LIST`, so an operator can tell our connections apart. */
  readonly name: string;
  readonly log: RedisLog;
  /**
   * Commands issued while disconnected wait for the reconnect instead of failing; acks
   * and result writes must not be dropped by a short outage. @default true
   */
  readonly waitForReconnect?: boolean;
  /**
   * Batch the commands issued in one tick into one socket write (ioredis auto-pipelining).
   * Never for a connection that blocks (BRPOP) or subscribes. @default false
   */
  readonly autoPipeline?: boolean;
}

/** Opens an ioredis client for an endpoint; connection loss is logged and retried forever. */
export function createRedisClient(endpoint: RedisEndpoint, options: RedisClientOptions): Redis {
  const redisOptions: RedisOptions = {
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db,
    connectionName: options.name,
    lazyConnect: false,
    enableOfflineQueue: true,
    enableAutoPipelining: options.autoPipeline ?? false,
    // null: a command waits for the connection to come back rather than failing after N tries.
    maxRetriesPerRequest: options.waitForReconnect === false ? 1 : null,
    retryStrategy: (attempt) => backoffDelay(attempt),
    ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
    ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
    ...(endpoint.tls !== undefined ? { tls: endpoint.tls } : {}),
  };
  const client = new Redis(redisOptions);
  let wasReady = false;
  client.on('ready', () => {
    if (wasReady) options.log.info('redis reconnected', { url: endpoint.redacted, connection: options.name });
    wasReady = true;
  });
  // An 'error' listener is mandatory: ioredis emits one per failed reconnect attempt.
  client.on('error', (error: unknown) => {
    options.log.warn('redis connection error', { url: endpoint.redacted, connection: options.name, error: redactRedisSecrets(messageOf(error)) });
  });
  return client;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Closes a client, falling back to a hard disconnect when QUIT cannot be sent in time. */
export async function closeRedisClient(client: Redis, log: RedisLog): Promise<void> {
  if (client.status === 'end') return;
  const quit = client.quit().catch((error: unknown) => log.debug('redis QUIT failed; disconnecting', { error: messageOf(error) }));
  await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  client.disconnect(false);
}
