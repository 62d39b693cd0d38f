/**
 * The one place brokers and result backends are chosen: by the URL's scheme. A third broker
 * is one folder implementing app/broker.ts plus one line in BROKERS. Every pair Python
 * Celery supports is allowed (AMQP + rpc, AMQP + Redis, Redis + Redis, Redis + rpc).
 */
import { type AdapterContext, type BrokerAdapter, brokerResults, type ResultBackendAdapter } from './broker.js';
import { CeleryGenError } from '../protocol/errors.js';
import { redactSecrets } from '../observability/logger.js';
import { AmqpBrokerAdapter } from '../amqp/adapter.js';
import { DEFAULT_BROKER_URL, redactUrl, type ReconnectOptions, type TlsOptions, type Transport } from '../amqp/transport.js';
import type { RpcResultBackend } from '../amqp/rpc-backend.js';
import type { AmqpTopology } from '../amqp/topology.js';
import { RedisBackendAdapter, RedisBrokerAdapter } from '../redis/adapter.js';
import type { RedisBroker } from '../redis/broker.js';
import type { RedisResultBackend } from '../redis/backend.js';

interface BrokerKind {
  readonly schemes: readonly string[];
  /** Whether a list of URLs (failover) is supported. */
  readonly failover: boolean;
  new (context: AdapterContext): BrokerAdapter;
}

interface BackendKind {
  readonly schemes: readonly string[];
  new (context: AdapterContext): ResultBackendAdapter;
}

/** Brokers by URL scheme. */
const BROKERS: readonly BrokerKind[] = [AmqpBrokerAdapter, RedisBrokerAdapter];
/** Key-value result backends by URL scheme; `rpc://` is the broker's own (brokerResults). */
const BACKENDS: readonly BackendKind[] = [RedisBackendAdapter];

export { DEFAULT_BROKER_URL };
// The broker-specific types the app's options and accessors name: the core imports them from here.
export type { AmqpTopology, RedisBroker, RedisResultBackend, ReconnectOptions, RpcResultBackend, TlsOptions, Transport };

const schemeOf = (url: string): string => /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase() ?? '';

/** The app's broker and backend, once their URLs are checked: the factories it calls with its context. */
export interface Chosen {
  broker(context: AdapterContext): BrokerAdapter;
  backend(context: AdapterContext, broker: BrokerAdapter): ResultBackendAdapter;
}

/**
 * Classifies the URLs and refuses what cannot run, with the reason: a malformed URL, an
 * unknown scheme, a failover list on a broker without one.
 */
export function chooseBrokerAndBackend(brokerUrls: readonly string[], backendUrl: string): Chosen {
  for (const url of brokerUrls) {
    try {
      new URL(url);
    } catch (error) {
      throw new CeleryGenError('BAD_BROKER_URL', `broker ${redactUrl(url)} is not a URL`, { cause: error });
    }
  }
  const brokerKind = brokerOf(brokerUrls[0]!);
  const backendKind = backendOf(backendUrl);
  for (const url of brokerUrls.slice(1)) {
    if (brokerOf(url) !== brokerKind || !brokerKind.failover) {
      const failover = BROKERS.filter((b) => b.failover).flatMap((b) => b.schemes.map((s) => `${s}://`));
      throw new CeleryGenError('BAD_BROKER_URL', `a broker URL list (failover) is supported for ${failover.join(' and ')} only, got ${redactUrl(url)}`);
    }
  }
  return {
    broker: (context) => new brokerKind(context),
    backend: (context, broker) => (backendKind === 'rpc' ? brokerResults(broker) : new backendKind(context)),
  };
}

function brokerOf(url: string): BrokerKind {
  const scheme = schemeOf(url);
  const kind = BROKERS.find((b) => b.schemes.includes(scheme));
  if (kind) return kind;
  const known = BROKERS.flatMap((b) => b.schemes.map((s) => `${s}://`));
  throw new CeleryGenError('UNSUPPORTED_BROKER', `broker ${redactSecrets(url)} is not supported: use ${known.slice(0, -1).join(', ')} or ${known.at(-1)}`);
}

function backendOf(url: string): BackendKind | 'rpc' {
  if (/^rpc:(\/\/)?$/i.test(url)) return 'rpc';
  const scheme = schemeOf(url);
  const kind = BACKENDS.find((b) => b.schemes.includes(scheme));
  if (kind) return kind;
  const known = BACKENDS.flatMap((b) => b.schemes.map((s) => `${s}://`));
  throw new CeleryGenError(
    'UNSUPPORTED_BACKEND',
    `result backend ${redactSecrets(url)} is not supported: use 'rpc://' (results through the broker) or a ${known.join(' / ')} URL`,
  );
}

// The app's broker-specific accessors (tests and diagnostics reach the AMQP connection or the
// Redis clients through them); each throws when the app runs on another broker or backend.

function amqpOf(broker: BrokerAdapter): AmqpBrokerAdapter {
  if (broker instanceof AmqpBrokerAdapter) return broker;
  throw new CeleryGenError('NOT_AMQP', 'this app does not use an AMQP broker');
}

export const amqpTransportOf = (broker: BrokerAdapter): Transport => amqpOf(broker).connection;
export const amqpTopologyOf = (broker: BrokerAdapter): AmqpTopology => amqpOf(broker).topology;
export const amqpResultsOf = (broker: BrokerAdapter): RpcResultBackend => amqpOf(broker).results;

export function redisBrokerOf(broker: BrokerAdapter): RedisBroker {
  if (broker instanceof RedisBrokerAdapter) return broker.broker;
  throw new CeleryGenError('NOT_REDIS', 'this app does not use a Redis broker');
}

export function redisBackendOf(backend: ResultBackendAdapter): RedisResultBackend {
  if (backend instanceof RedisBackendAdapter) return backend.backend;
  throw new CeleryGenError('NOT_REDIS', 'this app does not use a Redis result backend');
}
