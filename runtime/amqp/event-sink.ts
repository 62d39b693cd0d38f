/** The AMQP side of Celery events (observability/events.ts builds the bodies). */
import type { Channel } from 'amqplib';
import { EVENT_EXCHANGE, type EventSink } from '../observability/events.js';
import { toWireHeaders } from '../protocol/wire-headers.js';
import type { Transport } from './transport.js';

/** Events over AMQP: the durable topic exchange `celeryev`, transient messages. */
export class AmqpEventSink implements EventSink {
  readonly #transport: Transport;
  #channel: Promise<Channel> | undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  #open(): Promise<Channel> {
    if (!this.#channel) {
      const opening = (async () => {
        const channel = await this.#transport.createChannel();
        channel.on('close', () => {
          if (this.#channel === opening) this.#channel = undefined;
        });
        await channel.assertExchange(EVENT_EXCHANGE, 'topic', { durable: true, autoDelete: false });
        return channel;
      })();
      opening.catch(() => {
        if (this.#channel === opening) this.#channel = undefined;
      });
      this.#channel = opening;
    }
    return this.#channel;
  }

  async publish(routingKey: string, body: Buffer, hostname: string): Promise<void> {
    const channel = await this.#open();
    channel.publish(EVENT_EXCHANGE, routingKey, body, {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 1,
      priority: 0,
      headers: toWireHeaders({ hostname }),
    });
  }

  async close(): Promise<void> {
    const opening = this.#channel;
    this.#channel = undefined;
    if (!opening) return;
    const channel = await opening.catch(() => undefined);
    await channel?.close().catch(() => undefined);
  }
}
