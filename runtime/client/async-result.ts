/**
 * The AsyncResult every result tracker hands out (rpc:// over AMQP or Redis, the Redis
 * backend): replies are recorded as they arrive, whichever backend delivers them.
 */
import type { AsyncResult, GetOptions, TaskState } from '../app/api.js';
import { CeleryGenError, TimeoutError, type TaskError } from '../protocol/errors.js';
import type { ResultMeta } from '../protocol/message.js';
import { BUILTINS_ONLY, type ExceptionRegistry } from './exception-registry.js';

const READY_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

export type StateListener = (state: TaskState, meta: ResultMeta) => void;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A result of a task published by this client. Replies are recorded as they arrive, so none is lost before `get()`. */
export class RpcAsyncResult<R> implements AsyncResult<R> {
  readonly id: string;
  #state: TaskState = 'PENDING';
  // Allocated on first use: a client may hold thousands of results nobody waits on.
  #states: TaskState[] | undefined;
  #meta: ResultMeta | undefined;
  #failure: Error | undefined;
  #waiters: Set<Waiter> | undefined;
  #listeners: Set<StateListener> | undefined;

  readonly #ignored: boolean;
  readonly #exceptions: ExceptionRegistry;
  #publishing = false;

  /**
   * @param options.ignored sent with ignore_result: nothing will be reported, so get() rejects at once (Python's get() returns None).
   * @param options.exceptions the app's exception classes, which a FAILURE becomes (builtins only when absent).
   */
  constructor(id: string, options: { ignored?: boolean; exceptions?: ExceptionRegistry } = {}) {
    this.id = id;
    this.#ignored = options.ignored ?? false;
    this.#exceptions = options.exceptions ?? BUILTINS_ONLY;
  }

  /** True when the task was sent with ignore_result: no state will ever arrive. */
  get ignored(): boolean {
    return this.#ignored;
  }

  get state(): TaskState {
    return this.#state;
  }

  /** The last result meta received (STARTED carries `{pid, hostname}`, RETRY the exception), if any. */
  get meta(): ResultMeta | undefined {
    return this.#meta;
  }

  /** Every state reported so far, in arrival order (e.g. STARTED, RETRY, STARTED, SUCCESS). */
  get states(): readonly TaskState[] {
    return this.#states ?? [];
  }

  get ready(): boolean {
    return READY_STATES.has(this.#state) || this.#failure !== undefined;
  }

  /** Calls `listener` on every state the worker reports (STARTED, RETRY, then the final one). Returns an unsubscribe function. */
  onState(listener: StateListener): () => void {
    (this.#listeners ??= new Set()).add(listener);
    return () => this.#listeners?.delete(listener);
  }

  get(options: GetOptions = {}): Promise<R> {
    if (this.#ignored) {
      return Promise.reject(new CeleryGenError('RESULT_IGNORED', `task ${this.id} was sent with ignore_result: there is no result to wait for`));
    }
    if (this.ready) return this.#settled();
    return new Promise<R>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        resolve: (value) => {
          if (timer) clearTimeout(timer);
          resolve(value as R);
        },
        reject: (error) => {
          if (timer) clearTimeout(timer);
          reject(error);
        },
      };
      (this.#waiters ??= new Set()).add(waiter);
      if (options.timeout !== undefined) {
        timer = setTimeout(() => {
          this.#waiters?.delete(waiter);
          reject(new TimeoutError(`task ${this.id} did not finish within ${options.timeout} ms (last state ${this.#state})`));
        }, options.timeout);
      }
    });
  }

  #settled(): Promise<R> {
    if (this.#failure) return Promise.reject(this.#failure);
    const meta = this.#meta!;
    if (meta.status === 'SUCCESS') return Promise.resolve(meta.result as R);
    return Promise.reject(this.#exceptions.errorFromMeta(meta));
  }

  /** @internal Records a reply; wakes waiters when it is final. */
  receive(meta: ResultMeta): void {
    this.#state = meta.status;
    (this.#states ??= []).push(meta.status);
    this.#meta = meta;
    for (const listener of this.#listeners ?? []) {
      try {
        listener(this.#state, meta);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    if (!READY_STATES.has(this.#state) || !this.#waiters) return;
    const waiters = [...this.#waiters];
    this.#waiters = undefined;
    if (meta.status === 'SUCCESS') for (const w of waiters) w.resolve(meta.result);
    else {
      const error: TaskError = this.#exceptions.errorFromMeta(meta);
      for (const w of waiters) w.reject(error);
    }
  }

  /**
   * @internal True while the task's message is being (re)published: a reply consumer lost
   * meanwhile does not abandon it, since the message goes out after the consumer is back.
   */
  get publishing(): boolean {
    return this.#publishing;
  }

  /** @internal */
  set publishing(value: boolean) {
    this.#publishing = value;
  }

  /** @internal Ends the wait with an error that is not the task's (backend closed, consumer lost). */
  abandon(error: Error): void {
    this.#failure = error;
    const waiters = [...(this.#waiters ?? [])];
    this.#waiters = undefined;
    for (const w of waiters) w.reject(error);
  }
}

/**
 * The results an rpc-style reply consumer waits for, by task id: the AMQP reply queue
 * (amqp/rpc-backend.ts) and the Redis reply list (redis/app.ts) keep them alike. A result is
 * tracked before its message is published, so an early reply finds it.
 */
export class PendingReplies {
  readonly #pending = new Map<string, RpcAsyncResult<unknown>>();
  readonly #exceptions: ExceptionRegistry | undefined;

  constructor(exceptions?: ExceptionRegistry) {
    this.#exceptions = exceptions;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** The result for `taskId`, made the first time it is asked for. */
  track<R>(taskId: string): RpcAsyncResult<R> {
    const existing = this.#pending.get(taskId);
    if (existing) return existing as RpcAsyncResult<R>;
    const result = new RpcAsyncResult<R>(taskId, this.#exceptions ? { exceptions: this.#exceptions } : {});
    this.#pending.set(taskId, result as RpcAsyncResult<unknown>);
    return result;
  }

  /** Stops tracking a task whose message was never published. */
  forget(taskId: string): void {
    this.#pending.delete(taskId);
  }

  /** Hands a decoded reply to its result (dropped once ready); false when nothing waits for `taskId`. */
  deliver(taskId: string, meta: ResultMeta): boolean {
    const result = this.#pending.get(taskId);
    if (!result) return false;
    result.receive(meta);
    if (result.ready) this.#pending.delete(taskId);
    return true;
  }

  /** Rejects every waiting result with `error`, except those `keep` says go on waiting. */
  abandon(error: Error, keep: (result: RpcAsyncResult<unknown>) => boolean = () => false): void {
    for (const [id, result] of this.#pending) {
      if (keep(result)) continue;
      this.#pending.delete(id);
      result.abandon(error);
    }
  }
}
