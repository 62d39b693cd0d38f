/**
 * Where remote-control requests arrive and replies go, per broker, as kombu's pidbox
 * lays them out (protocol.md §7.2, captures README §7):
 * - AMQP: fanout exchange `celery.pidbox` (non-durable), this node's queue
 *   `<nodename>.celery.pidbox` (auto-delete, `x-expires` 10 s, `x-message-ttl` 300 s)
 *   bound with routing key ''; replies to the direct exchange `reply.celery.pidbox`.
 * - Redis: PSUBSCRIBE on `/<db>.celery.pidbox` (redis/broker.ts's fanout); the two mailboxes are amqp/control-mailbox.ts and redis/control-mailbox.ts, replies put
 *   on the list bound to `reply.celery.pidbox` under the caller's routing key.
 * Both hand decoded bodies to one ControlNode (control.ts), so the commands are answered
 * by the same code whatever the broker.
 */
import type { ControlNode } from './control.js';
import type { Logger } from './logger.js';

export const PIDBOX_EXCHANGE = 'celery.pidbox';
export const REPLY_EXCHANGE = 'reply.celery.pidbox';

export interface Mailbox {
  close(): Promise<void>;
}

/** Hands one decoded request to the node; the reply to send, or null (malformed requests are logged). */
export function handleAndReport(node: ControlNode, logger: Logger, body: unknown, headers: Record<string, unknown>) {
  const outcome = node.handle(body, headers);
  if (typeof outcome === 'string') {
    logger.warn(`ignoring a malformed remote-control message: ${outcome}`);
    return null;
  }
  return outcome;
}
