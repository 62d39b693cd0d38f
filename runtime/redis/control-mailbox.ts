/** The Redis pidbox mailbox (layout in observability/control-mailbox.ts). */
import type { ControlNode } from '../observability/control.js';
import { handleAndReport, PIDBOX_EXCHANGE, type Mailbox } from '../observability/control-mailbox.js';
import { messageOf, type Logger } from '../observability/logger.js';
import { encodeJson } from '../protocol/kombu-json.js';
import { decodeBody } from '../protocol/message.js';
import type { FanoutSubscription, RedisBroker } from './broker.js';

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
