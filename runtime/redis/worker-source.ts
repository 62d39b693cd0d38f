/** Where a Redis worker's deliveries come from: the WorkerSource (worker/source.ts) over kombu's lists. */
import type { Logger } from '../observability/logger.js';
import type { WorkerDelivery, WorkerSource } from '../worker/source.js';
import type { RedisBroker, RedisConsumer, RedisDelivery } from './broker.js';
import { messageOf } from './connection.js';
import { incomingFromEnvelope } from './messages.js';

/** Deliveries from kombu-format Redis lists (redis/broker.ts). */
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
