/** The Redis side of Celery events (observability/events.ts builds the bodies). */
import { EVENT_EXCHANGE, type EventSink } from '../observability/events.js';
import type { RedisBroker } from './broker.js';

/** Events over Redis: kombu publishes `celeryev` as a fanout (PUBLISH on `/<db>.celeryev/<routing key>`). */
export class RedisEventSink implements EventSink {
  readonly #broker: RedisBroker;
  constructor(broker: RedisBroker) {
    this.#broker = broker;
  }
  async publish(routingKey: string, body: Buffer, hostname: string): Promise<void> {
    await this.#broker.publishFanout(
      { body, contentType: 'application/json', contentEncoding: 'utf-8', headers: { hostname }, deliveryMode: 1 },
      EVENT_EXCHANGE,
      routingKey,
    );
  }
  async close(): Promise<void> {}
}
