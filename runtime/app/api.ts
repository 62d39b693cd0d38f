/**
 * The typed surface that generated modules and application code use. These are the
 * shapes; the classes that implement them live in their own files (client, results,
 * worker) and are wired together by `celery.ts`.
 */
import type { Signature } from '../client/canvas.js';
import type { Celery } from './celery.js';
import type { ResultMeta } from '../protocol/message.js';
import type { LogLevelName } from '../observability/logger.js';
import type { RetryOptions } from '../worker/retry.js';
import type { ArgsOf, Awaitable, JsonValue, KwargsOf, ResultOf, TaskSpec } from '../protocol/spec.js';

/** Celery task states (`celery.states`). */
export type TaskState = 'PENDING' | 'RECEIVED' | 'STARTED' | 'SUCCESS' | 'FAILURE' | 'REVOKED' | 'REJECTED' | 'RETRY' | 'IGNORED';

/** Per-call publishing options, as Python's `apply_async` spells them (camelCased). */
export interface ApplyOptions {
  /** Run no earlier than this many seconds from now. */
  readonly countdown?: number;
  /** Run no earlier than this time. */
  readonly eta?: Date;
  /** Do not run after this time; a number is seconds from now. */
  readonly expires?: Date | number;
  /** AMQP priority 0-9 (needs a queue declared with `x-max-priority`). */
  readonly priority?: number;
  /** Queue to route to; defaults to the task's `queue=` option, then `celery`. */
  readonly queue?: string;
  readonly exchange?: string;
  readonly routingKey?: string;
  /** Use this task id instead of a fresh UUID. */
  readonly taskId?: string;
  /** `[hard, soft]` seconds, as Python's `time_limit` / `soft_time_limit`. */
  readonly timeLimit?: number;
  readonly softTimeLimit?: number;
  readonly ignoreResult?: boolean;
  readonly serializer?: 'json' | 'msgpack';
  /** Extra message headers, merged as Python merges `headers=`. */
  readonly headers?: Readonly<Record<string, JsonValue>>;
  readonly parentId?: string;
  readonly rootId?: string;
  readonly shadow?: string;
  /** Called with this task's result on success (Python's `link=`), e.g. `step(TASK_SPECS.mul, [10])`. */
  readonly link?: Signature | readonly Signature[];
  /** Called with this task's id on failure (Python's `link_error=`), e.g. `errback(TASK_SPECS.onError, [])`. */
  readonly linkError?: Signature | readonly Signature[];
}

export interface GetOptions {
  /** Milliseconds to wait before rejecting with `TimeoutError`. Default: wait forever. */
  readonly timeout?: number;
}

/** A pending task result, as Python's `AsyncResult`. */
export interface AsyncResult<R> {
  readonly id: string;
  /** The last state seen for this task ('PENDING' until something arrives). */
  readonly state: TaskState;
  /** Every state reported so far, in arrival order (e.g. STARTED, RETRY, STARTED, SUCCESS). */
  readonly states: readonly TaskState[];
  /** True once the task is SUCCESS, FAILURE or REVOKED. */
  readonly ready: boolean;
  /** Calls `listener` on every state reported (STARTED, RETRY, then the final one); returns an unsubscribe function. */
  onState(listener: (state: TaskState, meta: ResultMeta) => void): () => void;
  /** Resolves with the result on SUCCESS; rejects with `TaskError` on FAILURE/REVOKED, `TimeoutError` on timeout. */
  get(options?: GetOptions): Promise<R>;
}

/** The typed client of one task. */
export interface TaskClient<Args extends unknown[], Kwargs extends object, Result> {
  /** The Celery task name. */
  readonly name: string;
  /** Publishes the task with positional arguments, as Python's `delay()`. */
  delay(...args: Args): Promise<AsyncResult<Result>>;
  /** Publishes the task with positional and keyword arguments and options, as `apply_async()`. */
  applyAsync(args?: Partial<Args>, kwargs?: Partial<Kwargs>, options?: ApplyOptions): Promise<AsyncResult<Result>>;
}

export type ClientOf<S> = TaskClient<ArgsOf<S>, KwargsOf<S>, ResultOf<S>>;

/** What a handler knows about the message it runs (Python's `self.request`). */
export interface TaskContext {
  readonly id: string;
  readonly name: string;
  readonly retries: number;
  readonly rootId: string | null;
  readonly parentId: string | null;
  readonly groupId: string | null;
  readonly eta: string | null;
  readonly expires: string | null;
  readonly hostname: string;
  readonly deliveryInfo: {
    readonly exchange: string;
    readonly routingKey: string;
    readonly redelivered: boolean;
    /**
     * How often the message was delivered before: RabbitMQ's `x-delivery-count` on quorum
     * queues; elsewhere 1 when the broker flags it redelivered, else 0 (a lower bound).
     */
    readonly redeliveryCount: number;
  };
  /** Every message header as received. */
  readonly headers: Readonly<Record<string, unknown>>;
  /**
   * Python's `self.retry()`: republishes this task with retries+1 after `countdown` seconds
   * (default: the task's `default_retry_delay`) and reports RETRY; past `max_retries` it
   * throws `exc` (or MaxRetriesExceededError) instead, which fails the task. Never returns.
   */
  retry(options?: RetryOptions): never;
  /** The app whose worker runs the task (to call other tasks from a handler). */
  readonly app?: Celery | undefined;
}

/** A handler bound to its spec, ready for a worker. */
export interface TaskImplementation {
  readonly spec: TaskSpec;
  /** Called with the positional argument list built from the wire args/kwargs in Python's order. */
  readonly run: (context: TaskContext, args: readonly unknown[]) => Awaitable<unknown>;
}

export interface WorkerOptions {
  /** Queues to consume. @default ['celery'] */
  readonly queues?: readonly string[];
  /** Handlers run at once (and the prefetch count). @default 1 */
  readonly concurrency?: number;
  /** Node name, as Python's `-n`. @default `celery@<hostname>` */
  readonly hostname?: string;
  /** Install SIGINT/SIGTERM handlers that stop the worker gracefully. @default true */
  readonly handleSignals?: boolean;
  /** Milliseconds stop() waits for in-flight handlers. @default 30000 */
  readonly shutdownTimeout?: number;
  /**
   * Bodies larger than this many bytes are refused before parsing (answered FAILURE where the
   * id and reply target are known, rejected, logged). @default 67108864 (64 MiB)
   */
  readonly maxBodyBytes?: number;
  /** Send task events (task-received/started/succeeded/failed/retried/revoked), as Python's `-E`. @default false */
  readonly events?: boolean;
  /** Send worker-online/heartbeat (every 2 s)/offline, so `celery events` and Flower see the worker. @default true */
  readonly heartbeat?: boolean;
  /** Answer `celery inspect` / `celery control` (ping, revoke, active, registered, stats…) on celery.pidbox. @default true */
  readonly remoteControl?: boolean;
  /** This worker's log level, as Python's `celery worker -l`; 'info' prints a line per task received and done. @default the app's `logLevel` */
  readonly logLevel?: LogLevelName;
}

export interface Worker {
  start(): Promise<void>;
  /** Stops consuming, lets in-flight handlers finish, acks them, then closes. Idempotent. */
  stop(): Promise<void>;
}
