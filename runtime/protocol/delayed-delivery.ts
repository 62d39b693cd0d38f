/**
 * Native delayed delivery as kombu 5.5+ lays it out on RabbitMQ (kombu
 * `transport/native_delayed_delivery.py`, Celery `worker/consumer/delayed_delivery.py`):
 * 28 levels of topic exchanges and TTL queues that dead-letter into each other, so a
 * countdown/ETA message waits in the broker, not unacked in a worker. Pure: names, routing
 * keys and the topology as plain data; runtime/amqp/delayed-delivery-setup.ts declares it.
 *
 * A message of delay d seconds goes to `celery_delayed_27` with the routing key
 * `<the 28 binary digits of d, dot-joined>.<original routing key>`. At level n the bit
 * 27-n decides: 1 → wait 2^n s in queue n, 0 → pass straight to exchange n-1. After level 0
 * it reaches the topic exchange `celery_delayed_delivery`, which the worker bound to each
 * queue's exchange with `#.<routing key>`.
 */

/** Bits of the delay, so at most 2^28 - 1 s (about 8.5 years). */
export const DELAYED_DELIVERY_BITS = 28;
export const DELAYED_DELIVERY_MAX_LEVEL = DELAYED_DELIVERY_BITS - 1;
/** Where a message comes out after its last level; every queue's exchange is bound to it. */
export const DELAYED_DELIVERY_EXCHANGE = 'celery_delayed_delivery';
/** The longest delay the topology can express, in whole seconds. */
export const MAX_DELAY_SECONDS = 2 ** DELAYED_DELIVERY_BITS - 1;

/** kombu strips this prefix before adding a new one, so a retried task's key does not grow (kombu #2556). */
const DELAY_PREFIX = new RegExp(`^(?:[01]\\.){${DELAYED_DELIVERY_BITS}}`);

export type QueueType = 'classic' | 'quorum';
export type ExchangeType = 'direct' | 'topic' | 'fanout' | 'headers';

/** `celery_delayed_<level>`: the name of level `level`'s exchange and of its queue. */
export function delayedLevelName(level: number): string {
  if (!Number.isInteger(level) || level < 0 || level > DELAYED_DELIVERY_MAX_LEVEL) {
    throw new RangeError(`delayed delivery level must be an integer 0..${DELAYED_DELIVERY_MAX_LEVEL}, got ${level}`);
  }
  return `celery_delayed_${level}`;
}

/** The exchange a delayed message is published to (Celery: `Exchange('celery_delayed_27', type='topic')`). */
export const DELAYED_DELIVERY_ENTRY = delayedLevelName(DELAYED_DELIVERY_MAX_LEVEL);

/**
 * kombu's `calculate_routing_key(int(countdown), routing_key)`: the whole seconds of the
 * delay as 28 dot-joined binary digits, then the routing key (without an earlier prefix).
 * Unlike kombu, 0 is accepted: it routes straight through to `celery_delayed_delivery`.
 */
export function delayedRoutingKey(delaySeconds: number, routingKey: string): string {
  const seconds = Math.trunc(delaySeconds);
  if (!Number.isFinite(delaySeconds) || seconds < 0) throw new RangeError(`delay must be a non-negative number of seconds, got ${delaySeconds}`);
  if (seconds > MAX_DELAY_SECONDS) throw new RangeError(`delay of ${seconds} s exceeds native delayed delivery's maximum of ${MAX_DELAY_SECONDS} s`);
  if (routingKey === '') throw new RangeError('routing key must be non-empty');
  const bits = seconds.toString(2).padStart(DELAYED_DELIVERY_BITS, '0');
  return `${bits.split('').join('.')}.${stripDelayPrefix(routingKey)}`;
}

/** The routing key without a delayed-delivery prefix (what a delivery through the topology carries). */
export function stripDelayPrefix(routingKey: string): string {
  return routingKey.replace(DELAY_PREFIX, '');
}

export interface ExchangeDeclaration {
  readonly name: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
}

export interface TopologyQueue {
  readonly name: string;
  readonly arguments: Readonly<Record<string, string | number>>;
}

/** `destination` receives what `source` routes with `routingKey` (a queue, or an exchange for an exchange-to-exchange binding). */
export interface Binding {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: 'queue' | 'exchange';
  readonly routingKey: string;
}

export interface DelayedDeliveryTopology {
  readonly exchanges: readonly ExchangeDeclaration[];
  /** Durable, not exclusive, not auto-delete (kombu's Queue defaults). */
  readonly queues: readonly TopologyQueue[];
  /** In kombu's order: each queue to its exchange, then the exchange chain, then the delivery exchange. */
  readonly bindings: readonly Binding[];
}

/**
 * Everything `declare_native_delayed_delivery_exchanges_and_queues(connection, queueType)`
 * declares, in its order. Celery's default `broker_native_delayed_delivery_queue_type` is quorum.
 */
export function delayedDeliveryTopology(queueType: QueueType = 'quorum'): DelayedDeliveryTopology {
  const exchanges: ExchangeDeclaration[] = [];
  const queues: TopologyQueue[] = [];
  const bindings: Binding[] = [];
  let key = '1.#';
  for (let level = DELAYED_DELIVERY_MAX_LEVEL; level >= 0; level--) {
    const name = delayedLevelName(level);
    exchanges.push({ name, type: 'topic', durable: true });
    const args: Record<string, string | number> = {
      'x-queue-type': queueType,
      'x-overflow': 'reject-publish',
      'x-message-ttl': 2 ** level * 1000,
      'x-dead-letter-exchange': level > 0 ? delayedLevelName(level - 1) : DELAYED_DELIVERY_EXCHANGE,
    };
    if (queueType === 'quorum') args['x-dead-letter-strategy'] = 'at-least-once';
    queues.push({ name, arguments: args });
    bindings.push({ source: name, destination: name, destinationKind: 'queue', routingKey: key });
    key = `*.${key}`;
  }
  key = '0.#';
  for (let level = DELAYED_DELIVERY_MAX_LEVEL; level > 0; level--) {
    bindings.push({ source: delayedLevelName(level), destination: delayedLevelName(level - 1), destinationKind: 'exchange', routingKey: key });
    key = `*.${key}`;
  }
  exchanges.push({ name: DELAYED_DELIVERY_EXCHANGE, type: 'topic', durable: true });
  bindings.push({ source: delayedLevelName(0), destination: DELAYED_DELIVERY_EXCHANGE, destinationKind: 'exchange', routingKey: key });
  return { exchanges, queues, bindings };
}

/** A consumed queue as the worker sees it: where it is bound, and how its tasks are routed. */
export interface QueueRoute {
  readonly queue: string;
  readonly queueType: QueueType;
  /** '' for RabbitMQ's default exchange (Celery's direct default publishes there). */
  readonly exchange: string;
  readonly exchangeType: ExchangeType;
  readonly routingKey: string;
}

/**
 * What Celery's worker binds for one queue (`bind_queue_to_native_delayed_delivery_exchange`):
 * the queue's exchange to `celery_delayed_delivery`, and the queue to its exchange, both with
 * `#.<routing key>` (the key as is when it already starts with `#`). A direct exchange gets
 * nothing: its exact-match bindings cannot see the prefixed key (Celery warns and skips it).
 */
export function delayedDeliveryBindings(route: QueueRoute): Binding[] {
  if (route.exchangeType === 'direct' || route.exchange === '') return [];
  const key = route.routingKey.startsWith('#') ? route.routingKey : `#.${route.routingKey}`;
  return [
    { source: DELAYED_DELIVERY_EXCHANGE, destination: route.exchange, destinationKind: 'exchange', routingKey: key },
    { source: route.exchange, destination: route.queue, destinationKind: 'queue', routingKey: key },
  ];
}

/**
 * The binding a TS worker adds for a quorum queue behind a direct exchange (Celery has none):
 * `celery_delayed_delivery` → the queue itself, with `#.<queue name>`. The worker re-publishes
 * a held ETA message through the topology with that key instead of holding it unacked, so it
 * does not take a prefetch slot while it waits (see docs/clusters.md).
 */
export function deferBinding(route: QueueRoute): Binding {
  return { source: DELAYED_DELIVERY_EXCHANGE, destination: route.queue, destinationKind: 'queue', routingKey: `#.${route.queue}` };
}

/**
 * Celery's rule (celery/app/base.py `send_task`, 5.5+) for sending a countdown/ETA task through
 * the topology: the app has a quorum queue, the task's exchange is not direct, and the delay
 * is positive. Celery raises for a delay under 1 s; callers here send those directly instead
 * (the worker holds them for the fraction).
 */
export function usesNativeDelay(options: { delayMs: number; appHasQuorumQueue: boolean; exchangeType: ExchangeType; exchange: string }): boolean {
  return options.appHasQuorumQueue && options.exchange !== '' && options.exchangeType !== 'direct' && options.delayMs >= 1000;
}

/** Queue arguments for a queue type: quorum adds `x-queue-type`, classic adds nothing (what Celery < 5.5 declares). */
export function queueTypeArguments(queueType: QueueType): Readonly<Record<string, string>> {
  return queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
}
