/**
 * Where remote-control requests arrive and replies go, per broker, as kombu's pidbox
 * lays them out (protocol.md §7.2, captures README §7):
 * - AMQP: fanout exchange `celery.pidbox` (non-durable), this node's queue
 *   `<nodename>.celery.pidbox` (auto-delete, `x-expires` 10 s, `x-message-ttl` 300 s)
 *   bound with routing key ''; replies to the direct exchange `reply.celery.pidbox`.
 * - Redis: PSUBSCRIBE on `/<db>.celery.pidbox` (redis-broker.ts's fanout), replies put
 *   on the list bound to `reply.celery.pidbox` under the caller's routing key.
 * Both hand decoded bodies to one ControlNode (control.ts), so the commands are answered
 * by the same code whatever the broker.
 */
import type { Channel } from 'amqplib';
import type { ControlNode } from './control.js';
import { encodeJson } from '../protocol/kombu-json.js';
import type { Logger } from './logger.js';
import { decodeBody } from '../protocol/message.js';
import type { RedisBroker, FanoutSubscription } from '../redis/broker.js';
import { messageOf, type Transport } from '../amqp/transport.js';
import { toWireHeaders } from '../protocol/wire-headers.js';

export const PIDBOX_EXCHANGE = 'celery.pidbox';
export const REPLY_EXCHANGE = 'reply.celery.pidbox';

export interface Mailbox {
  close(): Promise<void>;
}

function handleAndReport(node: ControlNode, logger: Logger, body: unknown, headers: Record<string, unknown>) {
  const outcome = node.handle(body, headers);
  if (typeof outcome === 'string') {
    logger.warn(`ignoring a malformed remote-control message: ${outcome}`);
    return null;
  }
  return outcome;
}

/**
 * Starts consuming `<nodename>.celery.pidbox` on its own channel, and opens it again
 * (every second until it works) when the broker connection or the channel is lost.
 */
export async function startAmqpMailbox(transport: Transport, node: ControlNode, logger: Logger): Promise<Mailbox> {
  let closed = false;
  let current: { channel: Channel; consumerTag: string } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const reopen = (): void => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (closed) return;
      open().catch((error: unknown) => {
        logger.warn(`remote control: cannot reopen the pidbox mailbox: ${messageOf(error)}`);
        reopen();
      });
    }, 1000);
    retry.unref();
  };
  const open = async (): Promise<void> => {
    const channel: Channel = await transport.createChannel();
    channel.on('close', () => {
      if (current?.channel === channel) current = undefined;
      if (!closed) reopen();
    });
    const queue = `${node.target.hostname}.celery.pidbox`;
    await channel.assertExchange(PIDBOX_EXCHANGE, 'fanout', { durable: false, autoDelete: false });
    await channel.assertQueue(queue, { durable: false, autoDelete: true, arguments: { 'x-expires': 10_000, 'x-message-ttl': 300_000 } });
    await channel.bindQueue(queue, PIDBOX_EXCHANGE, '');
    let replyExchangeDeclared = false;
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        let body: unknown;
        try {
          body = decodeBody(message.content, message.properties.contentType as string | undefined, message.properties.contentEncoding as string | undefined);
        } catch (error) {
          logger.warn(`ignoring an undecodable remote-control message: ${messageOf(error)}`);
          return;
        }
        const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
        const reply = handleAndReport(node, logger, body, headers);
        if (!reply || closed) return;
        void (async () => {
          if (!replyExchangeDeclared) {
            await channel.assertExchange(reply.exchange, 'direct', { durable: false, autoDelete: false });
            replyExchangeDeclared = true;
          }
          channel.publish(reply.exchange, reply.routingKey, Buffer.from(encodeJson(reply.body), 'utf8'), {
            contentType: 'application/json',
            contentEncoding: 'utf-8',
            deliveryMode: 1,
            headers: toWireHeaders(reply.headers),
          });
        })().catch((error: unknown) => logger.error(`cannot send a remote-control reply: ${messageOf(error)}`));
      },
      { noAck: true },
    );
    current = { channel, consumerTag };
  };
  await open();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const open = current;
      current = undefined;
      if (!open) return;
      await open.channel.cancel(open.consumerTag).catch(() => undefined);
      await open.channel.close().catch((error: unknown) => logger.debug(`pidbox channel close failed: ${messageOf(error)}`));
    },
  };
}

/** Subscribes to the Redis fanout channel of `celery.pidbox`. */
export async function startRedisMailbox(broker: RedisBroker, node: ControlNode, logger: Logger): Promise<Mailbox> {
  const subscription: FanoutSubscription = await broker.subscribeFanout(PIDBOX_EXCHANGE, '', (message) => {
    let body: unknown;
    try {
      body = decodeBody(message.body, message.contentType, message.contentEncoding);
    } catch (error) {
      logger.warn(`ignoring an undecodable remote-control message: ${messageOf(error)}`);
      return;
    }
    const reply = handleAndReport(node, logger, body, message.headers);
    if (!reply) return;
    broker
      .publish(
        {
          body: Buffer.from(encodeJson(reply.body), 'utf8'),
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          headers: reply.headers,
          deliveryMode: 1,
        },
        { exchange: reply.exchange, routingKey: reply.routingKey },
      )
      .catch((error: unknown) => logger.error(`cannot send a remote-control reply: ${messageOf(error)}`));
  });
  return { close: () => subscription.close() };
}
