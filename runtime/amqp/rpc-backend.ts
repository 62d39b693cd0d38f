/**
 * The rpc:// result backend: one reply queue per client, consumed without acks; replies are
 * matched to pending results by the body's `task_id` (as Python's async consumer does), the
 * correlation id as fallback.
 *
 * Recovery (issue 5): the reply queue has a name we choose (not server-named), so it is the
 * same after a reconnect, and it is not auto-delete (Python's is): a reply sent while our
 * connection is down waits in it, and pending get() calls survive the reconnect. Its
 * `x-expires` still removes it once nobody has used it for a day, and close() deletes it.
 * When it did not survive (a broker restart drops it: it is not durable), every pending
 * result fails with REPLY_QUEUE_LOST instead of waiting for a reply that cannot come.
 */
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { messageOf, type Logger } from '../observability/logger.js';
import { decodeResult, type ResultMeta } from '../protocol/message.js';
import type { ExceptionRegistry } from '../client/exception-registry.js';
import { PendingReplies, type RpcAsyncResult } from '../client/async-result.js';
import { backoffDelay, type QueueDeclaration, type Transport, TransportError } from './transport.js';

/** Python's `result_expires` default (1 day), which its rpc backend puts on the reply queue as `x-expires`. */
const REPLY_QUEUE_EXPIRES_MS = 86_400_000;

export const REPLY_QUEUE: QueueDeclaration = {
  durable: false,
  autoDelete: false,
  arguments: { 'x-expires': REPLY_QUEUE_EXPIRES_MS },
};

export { RpcAsyncResult, type StateListener } from '../client/async-result.js';

export class RpcResultBackend {
  /** The reply queue name, sent as every task's `reply_to`. */
  readonly queue: string = randomUUID();
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #pending: PendingReplies;
  #ready: Promise<string> | undefined;
  #channel: Channel | undefined;
  #consuming: Channel | undefined;
  #closed = false;
  /** Set once the queue was declared: from then on a re-subscription first checks that it survived. */
  #declared = false;
  #recovering = false;


  constructor(transport: Transport, logger: Logger, exceptions?: ExceptionRegistry) {
    this.#transport = transport;
    this.#logger = logger;
    this.#pending = new PendingReplies(exceptions);
  }

  /** The reply queue's name while its consumer is up (sendTask then needs no promise hop). */
  get replyTarget(): string | undefined {
    return this.#consuming !== undefined && this.#consuming === this.#channel ? this.queue : undefined;
  }

  /** Declares and consumes the reply queue on first use; resolves with its name. */
  ensure(): Promise<string> {
    if (this.#closed) return Promise.reject(new TransportError('CLOSED', 'result backend is closed'));
    if (!this.#ready) {
      const starting = this.#start();
      starting.catch(() => {
        if (this.#ready === starting) this.#ready = undefined;
      });
      this.#ready = starting;
    }
    return this.#ready;
  }

  async #start(): Promise<string> {
    if (this.#declared) await this.#checkSurvived();
    const channel = await this.#transport.createChannel();
    this.#channel = channel;
    channel.on('close', () => {
      if (this.#channel !== channel) return;
      this.#channel = undefined;
      this.#ready = undefined;
      if (this.#closed) return;
      this.#logger.warn(`the rpc reply consumer on ${this.queue} was lost; re-subscribing (replies wait in the queue meanwhile)`, { pending: this.#pending.size });
      this.#recover();
    });
    await this.#transport.assertQueue(channel, this.queue, REPLY_QUEUE);
    this.#declared = true;
    await channel.consume(
      this.queue,
      (message) => {
        if (message !== null) this.#onMessage(message);
        else if (this.#channel === channel) {
          // The broker cancelled the consumer (reply queue deleted): no reply can arrive any more.
          this.#channel = undefined;
          this.#ready = undefined;
          this.#lost('was deleted (the broker cancelled its consumer)');
          channel.close().catch((error: unknown) => this.#logger.debug('reply channel close failed', { error: messageOf(error) }));
          this.#recover();
        }
      },
      { noAck: true },
    );
    this.#consuming = channel;
    return this.queue;
  }

  /** Re-subscribes after a loss, with backoff while the broker is away; ends when subscribed or closed. */
  #recover(): void {
    if (this.#recovering || this.#closed) return;
    this.#recovering = true;
    void (async () => {
      try {
        for (let attempt = 1; !this.#closed; attempt++) {
          try {
            await this.ensure();
            this.#logger.info(`rpc reply consumer on ${this.queue} re-subscribed`, { attempt, pending: this.#pending.size });
            return;
          } catch (error) {
            if (error instanceof TransportError && error.code === 'CLOSED') return;
            await new Promise((r) => setTimeout(r, backoffDelay(attempt)).unref());
          }
        }
      } finally {
        this.#recovering = false;
      }
    })();
  }

  /** Before re-subscribing: a reply queue that is gone took its replies with it. */
  async #checkSurvived(): Promise<void> {
    const probe = await this.#transport.createChannel();
    try {
      await probe.checkQueue(this.queue);
    } catch (error) {
      // A probe that died with its connection tells nothing: try again after the reconnect.
      if (this.#transport.lostWithConnection(probe)) throw error;
      this.#lost('was gone after the reconnect (a broker restart drops it)');
    } finally {
      await probe.close().catch(() => undefined);
    }
  }

  /**
   * rpc:// replies are transient (Python's too): one sent while the reply queue was gone is
   * lost, so a waiting get() would never end. Every result already published and waiting
   * fails clearly instead; results still being published stay (their message goes out once
   * the queue is back).
   */
  #lost(why: string): void {
    this.#logger.warn(`the rpc reply queue ${this.queue} ${why}; pending results fail with REPLY_QUEUE_LOST`, { pending: this.#pending.size });
    this.#abandonAll(
      new TransportError(
        'REPLY_QUEUE_LOST',
        `the rpc reply queue ${this.queue} ${why}; a result sent to it is lost (rpc:// results are transient, as in Python). The task itself is not affected and may still run`,
      ),
    );
  }

  /** Registers a task id before its message is published, so an early reply finds it. */
  track<R>(taskId: string): RpcAsyncResult<R> {
    return this.#pending.track<R>(taskId);
  }

  /** @internal Stops tracking a task whose message was never published. */
  forget(taskId: string): void {
    this.#pending.forget(taskId);
  }

  #onMessage(message: ConsumeMessage): void {
    let meta: ResultMeta;
    try {
      const { contentType, contentEncoding } = message.properties;
      meta = decodeResult(message.content, typeof contentType === 'string' ? contentType : undefined, typeof contentEncoding === 'string' ? contentEncoding : undefined);
    } catch (error) {
      this.#logger.warn('ignoring an undecodable reply', { queue: this.queue, error: messageOf(error) });
      return;
    }
    const id = typeof meta.task_id === 'string' && meta.task_id !== '' ? meta.task_id : String(message.properties.correlationId ?? '');
    if (!this.#pending.deliver(id, meta)) this.#logger.debug('ignoring a reply for an unknown task id', { taskId: id, status: meta.status });
  }

  #abandonAll(error: Error, keepPublishing = true): void {
    this.#pending.abandon(error, (result) => keepPublishing && result.publishing);
  }

  /** Stops consuming; pending `get()` calls reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abandonAll(new TransportError('CLOSED', 'the app was closed before the result arrived'), false);
    const channel = this.#channel;
    this.#channel = undefined;
    this.#ready = undefined;
    if (!channel) return;
    // Not auto-delete (see above): without this it would linger until x-expires.
    await channel.deleteQueue(this.queue).catch((error: unknown) => this.#logger.debug('reply queue delete failed', { error: messageOf(error) }));
    await channel.close().catch((error: unknown) => this.#logger.debug('reply channel close failed', { error: messageOf(error) }));
  }
}
