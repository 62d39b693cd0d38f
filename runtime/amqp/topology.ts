/**
 * Declares what runtime/protocol/delayed-delivery.ts and queue-types.ts describe: the
 * native delayed delivery topology, each queue's exchange and binding (topic exchanges),
 * and the worker's delayed-delivery bindings. Each piece is declared once per connection
 * (a new node after a failover gets it again), on a short-lived channel of its own, so a
 * refused declaration (406, 404) never closes a publish or consume channel.
 *
 * It also re-publishes a held ETA message through the topology (`defer`), which is how a
 * worker on a quorum queue avoids holding it unacked (docs/clusters.md).
 */
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from '../observability/logger.js';
import {
  type Binding,
  DELAYED_DELIVERY_ENTRY,
  deferBinding,
  delayedDeliveryBindings,
  delayedDeliveryTopology,
  delayedRoutingKey,
  type QueueRoute,
} from '../protocol/delayed-delivery.js';
import { messageOf } from '../observability/logger.js';
import { type QueueDeclaration, type Transport, TransportError } from './transport.js';

/** Headers the broker writes itself; a deferred copy starts without them. */
const BROKER_HEADERS = ['x-death', 'x-delivery-count', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'x-last-death-exchange', 'x-last-death-queue', 'x-last-death-reason'];

export class AmqpTopology {
  readonly #transport: Transport;
  readonly #logger: Logger;
  /** Declarations made (or under way) on the current connection, by key; cleared when a connection opens. */
  #pending = new Map<string, Promise<void>>();
  readonly #done = new Set<string>();

  constructor(transport: Transport, logger: Logger) {
    this.#transport = transport;
    this.#logger = logger;
    transport.on('connect', () => {
      this.#pending = new Map();
      this.#done.clear();
    });
  }

  /** True once `key`'s declarations are done on the current connection (the publisher's fast path). */
  isReady(key: string): boolean {
    return this.#done.has(key);
  }

  /** The 28 levels and the delivery exchange, as kombu declares them (quorum, Celery's default). Once per connection. */
  ensureDelayedDelivery(): Promise<void> {
    return this.#once('delayed-delivery', async (channel) => {
      const topology = delayedDeliveryTopology('quorum');
      for (const exchange of topology.exchanges) await channel.assertExchange(exchange.name, exchange.type, { durable: exchange.durable, autoDelete: false });
      for (const queue of topology.queues) await channel.assertQueue(queue.name, { durable: true, exclusive: false, autoDelete: false, arguments: { ...queue.arguments } });
      for (const binding of topology.bindings) await bind(channel, binding);
    });
  }

  /** The key under which `ensureRoute` records a route. */
  static routeKey(route: QueueRoute, delayed: boolean): string {
    return `route ${route.exchange} ${route.queue} ${route.routingKey}${delayed ? ' delayed' : ''}`;
  }

  /**
   * A queue as kombu's `maybe_declare(queue)` declares it: the queue, and with a named exchange
   * also the exchange and the binding. With `delayed`, the topology and the queue's
   * delayed-delivery bindings too (Celery's worker binds them; the client here does as well, so a
   * countdown cannot vanish before any worker ran). Once per connection.
   */
  ensureRoute(route: QueueRoute, declaration: QueueDeclaration, delayed: boolean): Promise<void> {
    return this.#once(AmqpTopology.routeKey(route, delayed), async (channel) => {
      if (delayed) await this.ensureDelayedDelivery();
      await channel.assertQueue(route.queue, {
        durable: declaration.durable,
        autoDelete: declaration.autoDelete ?? false,
        exclusive: declaration.exclusive ?? false,
        ...(declaration.arguments ? { arguments: { ...declaration.arguments } } : {}),
      });
      if (route.exchange !== '') {
        await channel.assertExchange(route.exchange, route.exchangeType, { durable: true, autoDelete: false });
        await channel.bindQueue(route.queue, route.exchange, route.routingKey);
      }
      if (delayed) for (const binding of workerBindings(route)) await bind(channel, binding);
    });
  }

  /**
   * Sends a copy of `message` (same body, properties and headers) through the topology so
   * that it comes back to `route.queue` `delayMs` from now, less the sub-second part (the
   * worker holds that). Resolves once the broker confirmed the copy; the caller then acks
   * the original. The route must have been set up with `ensureRoute(route, …, true)`.
   */
  async defer(message: ConsumeMessage, route: QueueRoute, delayMs: number): Promise<void> {
    const key = delayedRoutingKey(Math.floor(delayMs / 1000), route.exchange === '' || route.exchangeType === 'direct' ? route.queue : route.routingKey);
    const { properties } = message;
    const headers: Record<string, unknown> = { ...(properties.headers ?? {}) };
    for (const name of BROKER_HEADERS) delete headers[name];
    const options: Options.Publish = { headers, mandatory: true };
    if (properties.contentType !== undefined) options.contentType = properties.contentType as string;
    if (properties.contentEncoding !== undefined) options.contentEncoding = properties.contentEncoding as string;
    if (properties.correlationId !== undefined) options.correlationId = properties.correlationId as string;
    if (properties.replyTo !== undefined) options.replyTo = properties.replyTo as string;
    if (properties.deliveryMode !== undefined) options.deliveryMode = properties.deliveryMode as number;
    if (properties.priority !== undefined) options.priority = properties.priority as number;
    const channel = await this.#transport.publishChannel();
    try {
      await this.#transport.publish(channel, DELAYED_DELIVERY_ENTRY, key, message.content, options);
    } catch (error) {
      if (error instanceof TransportError && error.code === 'PUBLISH_NACKED') this.#transport.discardPublishChannel(channel);
      throw error;
    }
  }

  async #once(key: string, declare: (channel: Channel) => Promise<void>): Promise<void> {
    const known = this.#pending.get(key);
    if (known) return known;
    const pending = this.#pending;
    const running = (async () => {
      const channel = await this.#transport.createChannel();
      try {
        await declare(channel);
      } catch (error) {
        throw new TransportError('DECLARE_FAILED', `cannot declare ${key}: ${messageOf(error)}`, { cause: error });
      } finally {
        await channel.close().catch(() => undefined);
      }
    })();
    pending.set(key, running);
    try {
      await running;
      if (this.#pending === pending) this.#done.add(key);
    } catch (error) {
      if (pending.get(key) === running) pending.delete(key);
      this.#logger.debug('declaration failed; it is tried again on next use', { key, error: messageOf(error) });
      throw error;
    }
  }
}

/**
 * What a worker binds for a consumed queue: Celery's bindings for a topic exchange; for a
 * quorum queue behind a direct exchange, the binding `defer` needs to bring messages back.
 */
export function workerBindings(route: QueueRoute): Binding[] {
  const celery = delayedDeliveryBindings(route);
  if (celery.length > 0) return celery;
  return route.queueType === 'quorum' ? [deferBinding(route)] : [];
}

async function bind(channel: Channel, binding: Binding): Promise<void> {
  if (binding.destinationKind === 'queue') await channel.bindQueue(binding.destination, binding.source, binding.routingKey);
  else await channel.bindExchange(binding.destination, binding.source, binding.routingKey);
}
