/**
 * Redis plugged into the app's seams: the client's MessagePublisher and ResultTracker
 * (client/publisher.ts) and the worker's ResultStore (worker/source.ts); redis/adapter.ts
 * hands them to the app.
 */
import { randomUUID } from 'node:crypto';
import type { MessagePublisher, ResultTracker } from '../client/publisher.js';
import type { Route } from '../client/routes.js';
import { CeleryGenError } from '../protocol/errors.js';
import type { Logger } from '../observability/logger.js';
import { decodeResult, type OutgoingMessage, type ResultMeta, type TaskRequest } from '../protocol/message.js';
import { READY_STATES, type ChordCallbackSender, type RedisResultBackend, type RedisResultMeta, type SignatureJson } from './backend.js';
import type { RedisBroker, RedisConsumer } from './broker.js';
import { messageOf } from './connection.js';
import { envelopeFromTaskMessage, storeRequestFromMeta } from './messages.js';
import { PendingReplies, RpcAsyncResult } from '../client/async-result.js';
import type { ExceptionRegistry } from '../client/exception-registry.js';
import type { ResultStore } from '../worker/source.js';
import type { GetOptions, TaskState } from '../app/api.js';

/** Task messages onto kombu-format Redis lists. */
const ignore = (): void => undefined;

export class RedisMessagePublisher implements MessagePublisher {
  constructor(readonly broker: RedisBroker) {}

  // Not async: the broker's promise is handed on as it is, without another frame of promise hops per task.
  publishTask(message: OutgoingMessage, route: Route): Promise<void> {
    try {
      return this.broker.publish(envelopeFromTaskMessage(message), { exchange: route.exchange, routingKey: route.routingKey, declare: route.exchange === '' }).then(ignore);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** An AsyncResult fed by the Redis backend: it subscribes when someone first waits for it. */
class RedisAsyncResult<R> extends RpcAsyncResult<R> {
  readonly #startWatching: () => void;

  constructor(id: string, startWatching: () => void, exceptions: ExceptionRegistry | undefined) {
    super(id, exceptions ? { exceptions } : {});
    this.#startWatching = startWatching;
  }

  override get(options: GetOptions = {}): Promise<R> {
    this.#startWatching();
    return super.get(options);
  }
}

const TASK_STATES: ReadonlySet<string> = new Set(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'RETRY', 'IGNORED']);

function toResultMeta(meta: RedisResultMeta): ResultMeta | undefined {
  if (!TASK_STATES.has(meta.status)) return undefined;
  return { ...meta, status: meta.status as TaskState, children: meta.children === null ? null : [...meta.children] };
}

/**
 * The client side of the Redis backend. `reply_to` is still sent (Python sends its app's
 * oid with every backend); results are awaited by SUBSCRIBE + GET on first `get()`, and
 * the subscription ends when the result is ready.
 */
export class RedisResultTracker implements ResultTracker {
  readonly oid = randomUUID();
  readonly #backend: RedisResultBackend;
  readonly #logger: Logger;
  /** Only results someone waits for: a publisher's fire-and-forget results cost nothing here. */
  readonly #watching = new Map<string, { result: RpcAsyncResult<unknown>; stop?: () => void }>();
  #closed = false;

  readonly #exceptions: ExceptionRegistry | undefined;

  constructor(backend: RedisResultBackend, logger: Logger, exceptions?: ExceptionRegistry) {
    this.#backend = backend;
    this.#logger = logger;
    this.#exceptions = exceptions;
  }

  ensure(): Promise<string> {
    if (this.#closed) return Promise.reject(new CeleryGenError('CLOSED', 'result backend is closed'));
    return Promise.resolve(this.oid);
  }

  track<R>(taskId: string): RpcAsyncResult<R> {
    const watched = this.#watching.get(taskId);
    if (watched) return watched.result as RpcAsyncResult<R>;
    const result: RpcAsyncResult<R> = new RedisAsyncResult<R>(taskId, () => this.#watch(taskId, result as RpcAsyncResult<unknown>), this.#exceptions);
    return result;
  }

  #watch(taskId: string, result: RpcAsyncResult<unknown>): void {
    if (result.ready || this.#watching.get(taskId)?.result === result) return;
    if (this.#closed) {
      result.abandon(new CeleryGenError('CLOSED', 'the app was closed before the result arrived'));
      return;
    }
    const entry: { result: RpcAsyncResult<unknown>; stop?: () => void } = { result };
    this.#watching.set(taskId, entry);
    this.#backend
      .watch(taskId, (meta) => {
        const converted = toResultMeta(meta);
        if (!converted) {
          this.#logger.warn('ignoring a stored result with an unknown state', { taskId, status: meta.status });
          return;
        }
        result.receive(converted);
        if (READY_STATES.has(converted.status)) this.#finish(taskId, entry);
      })
      .then(
        (stop) => {
          if (this.#watching.get(taskId) === entry) entry.stop = stop;
          else stop();
        },
        (error: unknown) => {
          this.#finish(taskId, entry);
          result.abandon(new CeleryGenError('RESULT_WAIT_FAILED', `cannot wait for ${taskId} on ${this.#backend.redactedUrl}: ${messageOf(error)}`, { cause: error }));
        },
      );
  }

  #finish(taskId: string, entry: { stop?: () => void }): void {
    if (this.#watching.get(taskId) === entry) this.#watching.delete(taskId);
    entry.stop?.();
  }

  forget(taskId: string): void {
    const entry = this.#watching.get(taskId);
    if (entry) this.#finish(taskId, entry);
  }

  /** Pending `get()` calls reject; the backend's connections are the app's to close. */
  close(): Promise<void> {
    this.#closed = true;
    const watching = [...this.#watching.values()];
    this.#watching.clear();
    for (const { result, stop } of watching) {
      stop?.();
      result.abandon(new CeleryGenError('CLOSED', 'the app was closed before the result arrived'));
    }
    return Promise.resolve();
  }
}

/**
 * The worker side: every state goes to `celery-task-meta-<id>`, and a finished chord header
 * task reports its part (`on_chord_part_return`), the last one sending the callback.
 */
export class RedisResultStore implements ResultStore {
  readonly #backend: RedisResultBackend;
  readonly #logger: Logger;
  readonly #sendCallback: ChordCallbackSender;

  constructor(backend: RedisResultBackend, logger: Logger, sendCallback: ChordCallbackSender) {
    this.#backend = backend;
    this.#logger = logger;
    this.#sendCallback = sendCallback;
  }

  async store(taskId: string, meta: ResultMeta, request?: TaskRequest): Promise<void> {
    await this.#backend.store(taskId, storeRequestFromMeta(meta, request));
    const chord = request?.embed.chord;
    if (!request || !chord || !READY_STATES.has(meta.status)) return;
    try {
      const outcome = await this.#backend.onChordPartReturn(
        { id: request.id, group: request.group, groupIndex: request.groupIndex, chord: chord as SignatureJson },
        meta.status,
        meta.result,
        this.#sendCallback,
      );
      this.#logger.debug('chord part recorded', { taskId, group: request.group, outcome });
    } catch (error) {
      this.#logger.error(`chord ${request.group ?? '?'}: recording part ${taskId} failed: ${messageOf(error)}`);
    }
  }
}

/**
 * rpc:// over a Redis broker, as Python's rpc backend does it there: the worker LPUSHes
 * each reply to the list named by `reply_to` (the anonymous exchange), and the client
 * consumes that list without acks. Replies are matched by the body's `task_id`.
 */
export class RedisRpcResults implements ResultTracker {
  /** The reply list's name, sent as every task's `reply_to`. */
  readonly queue = randomUUID();
  readonly #broker: RedisBroker;
  readonly #logger: Logger;
  readonly #pending: PendingReplies;
  #consumer: RedisConsumer | undefined;
  #closed = false;


  constructor(broker: RedisBroker, logger: Logger, exceptions?: ExceptionRegistry) {
    this.#broker = broker;
    this.#logger = logger;
    this.#pending = new PendingReplies(exceptions);
  }

  ensure(): Promise<string> {
    if (this.#closed) return Promise.reject(new CeleryGenError('CLOSED', 'result backend is closed'));
    this.#consumer ??= this.#broker.consume([this.queue], (delivery) => {
      let meta: ResultMeta;
      try {
        meta = decodeResult(delivery.body, delivery.contentType, delivery.contentEncoding);
      } catch (error) {
        this.#logger.warn('ignoring an undecodable reply', { queue: this.queue, error: messageOf(error) });
        return;
      }
      const id = typeof meta.task_id === 'string' && meta.task_id !== '' ? meta.task_id : (delivery.correlationId ?? '');
      if (!this.#pending.deliver(id, meta)) this.#logger.debug('ignoring a reply for an unknown task id', { taskId: id, status: meta.status });
    }, { noAck: true, declare: false });
    return Promise.resolve(this.queue);
  }

  track<R>(taskId: string): RpcAsyncResult<R> {
    return this.#pending.track<R>(taskId);
  }

  forget(taskId: string): void {
    this.#pending.forget(taskId);
  }

  /** Stops consuming and deletes the reply list (Python declares it auto-delete). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.abandon(new CeleryGenError('CLOSED', 'the app was closed before the result arrived'));
    if (this.#consumer) {
      await this.#consumer.cancel();
      await this.#broker.deleteQueue(this.queue).catch((error: unknown) => this.#logger.debug('deleting the reply list failed', { error: messageOf(error) }));
    }
  }
}
