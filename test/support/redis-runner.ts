/**
 * A minimal TypeScript task runner on the Redis modules alone (broker + backend +
 * protocol.ts), for the module-level interop tests: it proves the Redis layer speaks to
 * Python Celery independently of the full worker. It consumes, decodes with protocol.ts,
 * runs a handler, stores the result, reports chord parts, and acks.
 */
import { hostname } from 'node:os';
import { decodeTaskMessage, encodeTaskMessage, failureMeta, successMeta, type TaskRequest } from '../../runtime/protocol/message.js';
import { type RedisResultBackend, type SignatureJson } from '../../runtime/redis/backend.js';
import { type RedisBroker, type RedisConsumer, type RedisDelivery } from '../../runtime/redis/broker.js';
import { envelopeFromTaskMessage, incomingFromEnvelope, storeRequestFromMeta } from '../../runtime/redis/messages.js';

export type Handler = (args: unknown[], kwargs: Record<string, unknown>) => unknown;

export interface RunnerEvent {
  readonly request: TaskRequest;
  readonly delivery: RedisDelivery;
}

export interface MiniRunner {
  readonly consumer: RedisConsumer;
  /** Every message taken, in order. */
  readonly seen: RunnerEvent[];
  /** Every chord outcome this runner's header tasks produced. */
  readonly chordOutcomes: string[];
  cancel(): Promise<void>;
}

/** Publishes a task through the Redis broker, encoded by protocol.ts (as the TS client does). */
export async function publishTask(
  broker: RedisBroker,
  queue: string,
  task: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
  extra: { id?: string; priority?: number } = {},
): Promise<string> {
  const id = extra.id ?? crypto.randomUUID();
  const message = encodeTaskMessage({ id, task, args, kwargs, replyTo: '', origin: `gen${process.pid}@${hostname()}`, ...(extra.priority !== undefined ? { priority: extra.priority } : {}) });
  await broker.publish(envelopeFromTaskMessage(message), { routingKey: queue, declare: true });
  return id;
}

/** Python's `callback.delay(resl)`: the signature's own args after the header results, routed by its options. */
export function chordCallbackSender(broker: RedisBroker, defaultQueue: string) {
  return async (signature: SignatureJson, results: unknown[]): Promise<void> => {
    const options = signature.options ?? {};
    const id = typeof options.task_id === 'string' ? options.task_id : crypto.randomUUID();
    const queue = typeof options.queue === 'string' ? options.queue : defaultQueue;
    const message = encodeTaskMessage({
      id,
      task: signature.task,
      args: [results, ...(signature.args ?? [])],
      kwargs: { ...(signature.kwargs ?? {}) },
      replyTo: typeof options.reply_to === 'string' ? options.reply_to : '',
      origin: `gen${process.pid}@${hostname()}`,
    });
    await broker.publish(envelopeFromTaskMessage(message), { routingKey: queue, declare: true });
  };
}

export function startMiniRunner(
  broker: RedisBroker,
  backend: RedisResultBackend,
  queues: string[],
  handlers: Record<string, Handler>,
  options: { prefetch?: number; callbackQueue?: string } = {},
): MiniRunner {
  const seen: RunnerEvent[] = [];
  const chordOutcomes: string[] = [];
  const sendCallback = chordCallbackSender(broker, options.callbackQueue ?? 'celery');
  const consumer = broker.consume(
    queues,
    (delivery) => {
      void (async () => {
        const request = decodeTaskMessage(incomingFromEnvelope(delivery));
        seen.push({ request, delivery });
        const handler = handlers[request.task];
        let meta;
        try {
          if (!handler) throw new Error(`unregistered task ${request.task}`);
          meta = successMeta(request.id, await handler(request.args, request.kwargs));
        } catch (error) {
          meta = failureMeta(request.id, error);
        }
        await backend.store(request.id, storeRequestFromMeta(meta, request));
        if (request.embed.chord) {
          chordOutcomes.push(
            await backend.onChordPartReturn(
              { id: request.id, group: request.group, groupIndex: request.groupIndex, chord: request.embed.chord as SignatureJson },
              meta.status,
              meta.result,
              sendCallback,
            ),
          );
        }
        await delivery.ack();
      })().catch((error: unknown) => process.stderr.write(`# mini runner error: ${String(error)}\n`));
    },
    { prefetch: options.prefetch ?? 1 },
  );
  return { consumer, seen, chordOutcomes, cancel: () => consumer.cancel() };
}
