/**
 * The worker's seam to its broker and result backend, so one worker serves AMQP and
 * Redis alike: a WorkerSource hands out deliveries (each settled exactly once, and able
 * to answer an rpc:// caller through the broker it came from), and a ResultStore, when
 * the app has a key-value backend (Redis), receives task states instead of rpc replies.
 * The AMQP source lives with the worker (worker.ts); the Redis one is here.
 */
import type { Logger } from '../observability/logger.js';
import type { EncodedResult, IncomingMessage, ResultMeta, TaskRequest } from '../protocol/message.js';
import type { RedisBroker, RedisConsumer, RedisDelivery } from '../redis/broker.js';
import { messageOf } from '../redis/connection.js';
import { incomingFromEnvelope } from '../redis/messages.js';

export interface DeliveryInfo {
  readonly exchange: string;
  readonly routingKey: string;
  readonly redelivered: boolean;
}

/** One message a worker took from its broker. */
export interface WorkerDelivery {
  readonly message: IncomingMessage & { readonly deliveryInfo: DeliveryInfo };
  /** False once the connection it arrived on is gone: settling is then pointless, the broker hands it out again. */
  readonly live: boolean;
  ack(): void;
  /** Without requeue the message is dropped (or dead-lettered where the broker has a DLX). */
  reject(requeue: boolean): void;
  /** Answers an rpc:// caller through the broker the message came from (AMQP: on its channel, so it precedes the ack). */
  reply(replyTo: string, correlationId: string, payload: EncodedResult): void | Promise<void>;
}

export interface WorkerSource {
  /** Starts consuming `queues`; at most `prefetch` deliveries are unsettled at once. */
  start(queues: readonly string[], prefetch: number, onDelivery: (delivery: WorkerDelivery) => void): Promise<void>;
  /**
   * Changes how many unsettled deliveries the source hands out (the worker raises it while
   * it holds ETA messages, as Python does). Absent where the source cannot.
   */
  setPrefetch?(count: number): Promise<void>;
  /**
   * Re-publishes a delivery whose eta is `delayMs` away so that the broker brings it back
   * when due, and settles the original once the copy is safe. Returns undefined at once where
   * this delivery cannot be deferred (the worker then holds it, as before); the promise
   * rejects when deferring failed and the original is still unsettled. Absent where the
   * source never can.
   */
  defer?(delivery: WorkerDelivery, delayMs: number): Promise<void> | undefined;
  /** Stops taking messages; unsettled ones can still be settled. */
  cancel(): Promise<void>;
  /** Hands every unsettled message back to its queue and releases the connection. */
  close(): Promise<void>;
}

/** A key-value result backend as the worker sees it: states are stored, not replied. */
export interface ResultStore {
  /** Resolves once the state is stored (the worker acks after it). `request` is absent for undecodable messages. */
  store(taskId: string, meta: ResultMeta, request?: TaskRequest): Promise<void>;
}

/** Deliveries from kombu-format Redis lists (redis-broker.ts). */
export class RedisWorkerSource implements WorkerSource {
  readonly #broker: RedisBroker;
  readonly #logger: Logger;
  #consumer: RedisConsumer | undefined;
  #closed = false;

  constructor(broker: RedisBroker, logger: Logger) {
    this.#broker = broker;
    this.#logger = logger;
  }

  async start(queues: readonly string[], prefetch: number, onDelivery: (delivery: WorkerDelivery) => void): Promise<void> {
    await this.#broker.connect();
    this.#consumer = this.#broker.consume(queues, (delivery) => onDelivery(this.#wrap(delivery)), { prefetch });
  }

  #wrap(delivery: RedisDelivery): WorkerDelivery {
    const settle = (how: string, action: () => Promise<void>): void => {
      action().catch((error: unknown) => this.#logger.error(`${how} failed; the message stays in unacked and is restored after the visibility timeout`, { error: messageOf(error), tag: delivery.deliveryTag }));
    };
    const source = this;
    return {
      message: { ...incomingFromEnvelope(delivery), deliveryInfo: { ...delivery.deliveryInfo } },
      // Redis keeps the parked message whatever happens to our connection: settling always counts.
      get live() {
        return !source.#closed;
      },
      ack: () => settle('ack', () => delivery.ack()),
      reject: (requeue) => settle('reject', () => delivery.reject(requeue)),
      reply: async (replyTo, correlationId, payload) => {
        // rpc:// over Redis: Python's reply goes to the anonymous exchange, i.e. the list named reply_to.
        await this.#broker.publish(
          { body: payload.body, contentType: payload.contentType, contentEncoding: payload.contentEncoding, headers: {}, correlationId, deliveryMode: 1, priority: 0 },
          { routingKey: replyTo },
        );
      },
    };
  }

  async setPrefetch(count: number): Promise<void> {
    this.#consumer?.setPrefetch(count);
  }

  async cancel(): Promise<void> {
    await this.#consumer?.cancel();
  }

  async close(): Promise<void> {
    const consumer = this.#consumer;
    this.#closed = true;
    if (!consumer) return;
    await consumer.cancel();
    const restored = await consumer.restoreUnacked();
    if (restored > 0) this.#logger.info(`returned ${restored} unfinished message(s) to their queue`);
  }
}
