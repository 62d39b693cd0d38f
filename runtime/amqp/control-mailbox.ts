/** The AMQP pidbox mailbox (layout in observability/control-mailbox.ts). */
import type { Channel } from 'amqplib';
import type { ControlNode } from '../observability/control.js';
import { handleAndReport, PIDBOX_EXCHANGE, type Mailbox } from '../observability/control-mailbox.js';
import { messageOf, type Logger } from '../observability/logger.js';
import { encodeJson } from '../protocol/kombu-json.js';
import { decodeBody } from '../protocol/message.js';
import { toWireHeaders } from '../protocol/wire-headers.js';
import type { Transport } from './transport.js';

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
