/**
 * How the app declares and routes each queue, from Celery 5.5+'s settings: the default
 * queue's type (`task_default_queue_type`), the type of queues created on demand
 * (`task_create_missing_queue_type`) and the exchange type (`task_default_exchange_type`).
 * Pure: the AMQP side (runtime/amqp) declares what this describes.
 *
 * As Celery: with a direct exchange, tasks go to RabbitMQ's default exchange with the queue
 * name as routing key; with a topic exchange, each queue is bound to an exchange of its own
 * name with its name as routing key, and tasks are published there.
 */
import { type ExchangeType, type QueueRoute, type QueueType, queueTypeArguments } from './delayed-delivery.js';

export interface QueueTypeSettings {
  readonly defaultQueue: string;
  /** @default 'classic' */
  readonly defaultQueueType?: QueueType | undefined;
  /** @default 'classic' */
  readonly createMissingQueueType?: QueueType | undefined;
  /** @default 'direct' */
  readonly defaultExchangeType?: 'direct' | 'topic' | undefined;
  /** Explicit queue arguments by queue name; an `x-queue-type` here wins over the settings above. */
  readonly queueArguments?: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
}

/** The type `queue` is declared with. */
export function queueTypeOf(queue: string, settings: QueueTypeSettings): QueueType {
  const explicit = settings.queueArguments?.[queue]?.['x-queue-type'];
  if (explicit === 'quorum' || explicit === 'classic') return explicit;
  return (queue === settings.defaultQueue ? settings.defaultQueueType : settings.createMissingQueueType) ?? 'classic';
}

/** Where tasks for `queue` are published and how the queue is bound. */
export function queueRouteOf(queue: string, settings: QueueTypeSettings): QueueRoute {
  const exchangeType: ExchangeType = settings.defaultExchangeType ?? 'direct';
  return {
    queue,
    queueType: queueTypeOf(queue, settings),
    exchange: exchangeType === 'direct' ? '' : queue,
    exchangeType,
    routingKey: queue,
  };
}

/** The arguments `queue` is declared with: its type's, then the app's explicit ones. */
export function queueArgumentsOf(queue: string, settings: QueueTypeSettings): Readonly<Record<string, unknown>> | undefined {
  const typed = queueTypeArguments(queueTypeOf(queue, settings));
  const explicit = settings.queueArguments?.[queue];
  if (explicit === undefined) return Object.keys(typed).length === 0 ? undefined : typed;
  return { ...typed, ...explicit };
}

/** Celery's `detect_quorum_queues`: any quorum queue turns on native delayed delivery (and per-consumer prefetch). */
export function appHasQuorumQueue(settings: QueueTypeSettings): boolean {
  if (settings.defaultQueueType === 'quorum' || settings.createMissingQueueType === 'quorum') return true;
  return Object.values(settings.queueArguments ?? {}).some((args) => args['x-queue-type'] === 'quorum');
}
