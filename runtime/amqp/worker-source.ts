/** Where an AMQP worker's deliveries come from: the WorkerSource (worker/source.ts) over amqplib. */
import type { Channel, ConsumeMessage } from 'amqplib';
import { messageOf, type Logger } from '../observability/logger.js';
import type { EncodedResult } from '../protocol/message.js';
import type { WorkerDelivery, WorkerSource } from '../worker/source.js';
import { CELERY_QUEUE, backoffDelay, type QueueDeclaration, type Transport, TransportError } from './transport.js';

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

  constructor(transport: Transport, logger: Logger, declaration: (queue: string) => QueueDeclaration = () => CELERY_QUEUE) {
    this.#transport = transport;
    this.#logger = logger;
    this.#declaration = declaration;
  }

  /** Widens or narrows the channel's window (held ETA messages count against it, as in Python). */
  async setPrefetch(count: number): Promise<void> {
    this.#prefetch = count;
    const channel = this.#channel;
    if (!channel) return;
    await channel.prefetch(count, true);
  }

  async start(queues: readonly string[], prefetch: number, onDelivery: (delivery: WorkerDelivery) => void): Promise<void> {
    this.#queues = queues;
    this.#prefetch = prefetch;
    this.#onDelivery = onDelivery;
    await this.#subscribe();
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
    // QoS, as they do for Python 5.2.
    await channel.prefetch(this.#prefetch, true);
    for (const queue of this.#queues) await this.#consume(channel, queue);
  }

  async #consume(channel: Channel, queue: string): Promise<void> {
    await this.#transport.assertQueue(channel, queue, this.#declaration(queue));
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) this.#cancelledByBroker(channel, queue);
        else this.#onDelivery(new AmqpDelivery(this, channel, message));
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
            this.#logger.info('worker re-subscribed after losing its channel', { queues: this.#queues, attempt });
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
  readonly #source: AmqpWorkerSource;
  readonly #channel: Channel;
  readonly #raw: ConsumeMessage;

  constructor(source: AmqpWorkerSource, channel: Channel, raw: ConsumeMessage) {
    this.#source = source;
    this.#channel = channel;
    this.#raw = raw;
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
