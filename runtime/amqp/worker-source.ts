/** Where an AMQP worker's deliveries come from: the WorkerSource (worker/source.ts) over amqplib. */
import type { Channel, ConsumeMessage } from 'amqplib';
import { messageOf, type Logger } from '../observability/logger.js';
import type { EncodedResult } from '../protocol/message.js';
import type { WorkerDelivery, WorkerSource } from '../worker/source.js';
import type { QueueRoute } from '../protocol/delayed-delivery.js';
import { AmqpTopology } from './topology.js';
import { CELERY_QUEUE, backoffDelay, type QueueDeclaration, type Transport, TransportError } from './transport.js';

/** The app's cluster settings the AMQP source needs (queue types, exchanges, delayed delivery). */
export interface AmqpClusterOptions {
  readonly queueRoute?: ((queue: string) => QueueRoute) | undefined;
  readonly topology?: AmqpTopology | undefined;
  readonly delayedDelivery: boolean;
}

/**
 * The AMQP source: one channel, manual acks, prefetch = concurrency. Every delivery stays
 * paired with that channel; once it closed, nothing is acked on it (the broker requeues).
 */
export class AmqpWorkerSource implements WorkerSource {
  readonly #transport: Transport;
  readonly #logger: Logger;
  /** The channel deliveries currently come from; undefined while it is being replaced. */
  #channel: Channel | undefined;
  /** Set by cancel() and close(): from then on a lost channel is not replaced. */
  #closing = false;
  #queues: readonly string[] = [];
  #prefetch = 1;
  #onDelivery: (delivery: WorkerDelivery) => void = () => undefined;
  #consumerTags = new Map<string, string>();
  #recovering = false;
  readonly #declaration: (queue: string) => QueueDeclaration;
  readonly #cluster: AmqpClusterOptions;
  /** Per-consumer prefetch: set when a consumed queue is a quorum queue (they refuse global QoS: 540 NOT_IMPLEMENTED). */
  #perConsumer = false;

  constructor(transport: Transport, logger: Logger, declaration: (queue: string) => QueueDeclaration = () => CELERY_QUEUE, cluster: AmqpClusterOptions = { delayedDelivery: false }) {
    this.#transport = transport;
    this.#logger = logger;
    this.#declaration = declaration;
    this.#cluster = cluster;
  }

  #route(queue: string): QueueRoute | undefined {
    return this.#cluster.queueRoute?.(queue);
  }

  /**
   * Widens or narrows the channel's window (held ETA messages count against it, as in Python).
   * Not with per-consumer prefetch: RabbitMQ applies a changed per-consumer limit only to later
   * consumers; there, ETA messages a second or more away are deferred instead (defer()).
   */
  async setPrefetch(count: number): Promise<void> {
    if (this.#perConsumer) return;
    this.#prefetch = count;
    const channel = this.#channel;
    if (!channel) return;
    await channel.prefetch(count, true);
  }

  /** Native delayed delivery for quorum queues whose delayed bindings are in place on this connection; classic queues: undefined. */
  defer(delivery: WorkerDelivery, delayMs: number): Promise<void> | undefined {
    const { topology } = this.#cluster;
    if (!(delivery instanceof AmqpDelivery) || !topology || !this.#cluster.delayedDelivery) return undefined;
    const route = this.#route(delivery.queue);
    if (!route || route.queueType !== 'quorum' || !topology.isReady(AmqpTopology.routeKey(route, true))) return undefined;
    return topology.defer(delivery.raw, route, delayMs).then(() => {
      // Confirmed: the copy is safe in the broker. An original whose channel died meanwhile comes back and is deferred again (a duplicate, never a loss).
      if (delivery.live) delivery.ack();
    });
  }

  /**
   * Celery 5.5+'s DelayedDelivery step: the topology and each queue's bindings, on the current
   * connection. In the background after a reconnect, so consuming never waits for it; a
   * failure is logged and tried again after the next reconnect (or by the next defer's fallback).
   */
  async #setupDelayedDelivery(): Promise<void> {
    const { topology } = this.#cluster;
    if (!topology || !this.#cluster.delayedDelivery) return;
    for (const queue of this.#queues) {
      const route = this.#route(queue);
      if (!route) continue;
      try {
        await topology.ensureRoute(route, this.#declaration(queue), true);
      } catch (error) {
        this.#logger.warn(`cannot set up native delayed delivery for ${queue} on ${this.#transport.redactedUrl}: ${messageOf(error)}`);
      }
    }
  }

  async start(queues: readonly string[], prefetch: number, onDelivery: (delivery: WorkerDelivery) => void): Promise<void> {
    this.#queues = queues;
    this.#prefetch = prefetch;
    this.#onDelivery = onDelivery;
    await this.#subscribe();
    await this.#setupDelayedDelivery();
  }

  /** Opens a channel, sets its window, declares and consumes every queue: on start and after every loss. */
  async #subscribe(): Promise<void> {
    const channel = await this.#transport.createChannel();
    if (this.#closing) {
      await channel.close().catch(() => undefined);
      return;
    }
    this.#channel = channel;
    this.#consumerTags = new Map();
    channel.on('close', () => this.#lost(channel));
    // One channel-wide window, as Celery 5.2 uses on RabbitMQ (qos_global): it can grow while
    // ETA messages are held, which a per-consumer limit cannot (RabbitMQ applies a changed
    // per-consumer limit only to consumers created afterwards). Quorum queues refuse global
    // QoS (540 NOT_IMPLEMENTED), so with one of them every consumer gets its own window, as
    // Celery 5.5+'s worker_detect_quorum_queues does.
    this.#perConsumer = this.#queues.some((queue) => this.#route(queue)?.queueType === 'quorum');
    await channel.prefetch(this.#prefetch, !this.#perConsumer);
    for (const queue of this.#queues) await this.#consume(channel, queue);
  }

  async #consume(channel: Channel, queue: string): Promise<void> {
    const route = this.#route(queue);
    // A topic exchange: the exchange and the queue's binding first, as Celery's worker declares them.
    if (route && route.exchange !== '' && this.#cluster.topology) await this.#cluster.topology.ensureRoute(route, this.#declaration(queue), false);
    await this.#transport.assertQueue(channel, queue, this.#declaration(queue));
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) this.#cancelledByBroker(channel, queue);
        else this.#onDelivery(new AmqpDelivery(this, channel, message, queue));
      },
      { noAck: false },
    );
    this.#consumerTags.set(queue, consumerTag);
  }

  /** The queue was deleted (or its node went away): declare it again and consume, on the same channel. */
  #cancelledByBroker(channel: Channel, queue: string): void {
    this.#consumerTags.delete(queue);
    if (this.#closing || this.#channel !== channel) return;
    this.#logger.warn('the broker cancelled a worker consumer (queue deleted?); declaring the queue again and re-subscribing', { queue });
    setTimeout(() => {
      if (this.#closing || this.#channel !== channel) return;
      this.#consume(channel, queue).catch((error: unknown) => this.#logger.error(`cannot re-subscribe to ${queue}: ${messageOf(error)}`));
    }, 100).unref();
  }

  /**
   * The channel is gone with every delivery tag on it: those messages go back to their queues
   * (the worker drops their acks: isLive). Unless stopping, a new channel takes over as soon
   * as the transport has reconnected, with backoff while it cannot be set up.
   */
  #lost(channel: Channel): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    if (this.#closing) return;
    this.#logger.error('worker channel closed unexpectedly; unacked messages will be redelivered; re-subscribing', { queues: this.#queues });
    if (this.#recovering) return;
    this.#recovering = true;
    void (async () => {
      try {
        for (let attempt = 1; !this.#closing; attempt++) {
          try {
            await this.#subscribe();
            this.#logger.info('worker re-subscribed after losing its channel', { queues: this.#queues, attempt, url: this.#transport.redactedUrl });
            void this.#setupDelayedDelivery();
            return;
          } catch (error) {
            if (error instanceof TransportError && error.code === 'CLOSED') return;
            const delay = backoffDelay(attempt);
            this.#logger.warn(`worker cannot re-subscribe yet (attempt ${attempt}): ${messageOf(error)}`, { retryInMs: delay });
            await new Promise((r) => setTimeout(r, delay).unref());
          }
        }
      } finally {
        this.#recovering = false;
      }
    })();
  }

  /** @internal False once `channel` closed (or was replaced): its delivery tags mean nothing any more. */
  isLive(channel: Channel): boolean {
    return this.#channel === channel;
  }

  async cancel(): Promise<void> {
    this.#closing = true;
    const channel = this.#channel;
    if (!channel) return;
    for (const tag of this.#consumerTags.values()) {
      await channel.cancel(tag).catch((error: unknown) => this.#logger.warn(`cancel failed: ${messageOf(error)}`));
    }
  }

  /** Prefetched but unsettled messages stay unacked: closing the channel hands them back. */
  async close(): Promise<void> {
    this.#closing = true;
    const channel = this.#channel;
    this.#channel = undefined;
    if (!channel) return;
    await channel.close().catch((error: unknown) => this.#logger.debug(`channel close failed: ${messageOf(error)}`));
  }
}

/** One AMQP delivery, bound to the channel it arrived on (methods on the prototype: no closures per message). */
class AmqpDelivery implements WorkerDelivery {
  readonly message: WorkerDelivery['message'];
  /** The queue it was consumed from. */
  readonly queue: string;
  readonly #source: AmqpWorkerSource;
  readonly #channel: Channel;
  readonly #raw: ConsumeMessage;

  constructor(source: AmqpWorkerSource, channel: Channel, raw: ConsumeMessage, queue: string) {
    this.#source = source;
    this.#channel = channel;
    this.#raw = raw;
    this.queue = queue;
    const { properties, fields } = raw;
    this.message = {
      body: raw.content,
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      headers: properties.headers,
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
      priority: properties.priority,
      deliveryInfo: { exchange: fields.exchange, routingKey: fields.routingKey, redelivered: fields.redelivered },
    };
  }

  get live(): boolean {
    return this.#source.isLive(this.#channel);
  }

  /** The message as amqplib delivered it (defer copies its properties). */
  get raw(): ConsumeMessage {
    return this.#raw;
  }

  ack(): void {
    this.#channel.ack(this.#raw);
  }

  reject(requeue: boolean): void {
    this.#channel.reject(this.#raw, requeue);
  }

  /** On the delivery's own channel, so the reply reaches the broker before the ack that follows. */
  reply(replyTo: string, correlationId: string, payload: EncodedResult): void {
    this.#channel.publish('', replyTo, payload.body, {
      contentType: payload.contentType,
      contentEncoding: payload.contentEncoding,
      correlationId,
      deliveryMode: 1,
      priority: 0,
      headers: {},
    });
  }
}
