/**
 * The client: turns a call into a protocol v2 message (protocol/message.ts), hands it to
 * the broker's MessagePublisher (amqp/publisher.ts, redis/app.ts) and returns an
 * AsyncResult from the app's ResultTracker.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ApplyOptions } from '../app/api.js';
import { embedList } from './canvas.js';
import { resolveRoute, routeOf, type Route, type RouteOptions, type TaskRouter } from './routes.js';
import type { Logger } from '../observability/logger.js';
import { encodeTaskMessage, type OutgoingMessage, type TaskMessageInput } from '../protocol/message.js';
import { RpcAsyncResult } from './async-result.js';
import type { TaskSpec } from '../protocol/spec.js';

/** Python's `anon_nodename()`: the origin header of a plain client. */
export function anonNodename(): string {
  return `gen${process.pid}@${hostname()}`;
}

/** What a client needs from its result backend (RpcResultBackend, or the Redis one in redis/app.ts). */
export interface ResultTracker {
  /** Resolves with the `reply_to` to send (the rpc reply queue, or the client's id with a key-value backend). */
  ensure(): Promise<string>;
  /** The reply target when it is already set up (then sendTask does not wait for ensure()). */
  readonly replyTarget?: string | undefined;
  /** Registers a task id before its message is published, so an early result finds it. */
  track<R>(taskId: string): RpcAsyncResult<R>;
  forget(taskId: string): void;
}

/** Publishes one encoded task message on the app's broker (amqp/publisher.ts, redis/app.ts). */
export interface MessagePublisher {
  /** Resolves once the broker took the message. `eta` is the task's, for brokers with native delayed delivery. */
  publishTask(message: OutgoingMessage, route: Route, eta?: TaskMessageInput['eta']): Promise<void>;
  /** The reply target when getting it may wait for the broker (rpc:// over AMQP); absent: the tracker's ensure(). */
  replyTo?(startedAt: number): Promise<string>;
}

export interface PublisherDeps {
  readonly results: ResultTracker;
  /** The broker's publisher (the app's BrokerAdapter makes it). */
  readonly messagePublisher: MessagePublisher;
  readonly logger: Logger;
  /** @default `gen<pid>@<hostname>` */
  readonly origin?: string;
  /** Python's `task_default_queue`. @default 'celery' */
  readonly defaultQueue?: string;
  /** The app's `taskRoutes`, compiled; ranked after routes read from the Python source. */
  readonly router?: TaskRouter;
  /** Python's `task_serializer`: used when neither the call nor the task's `serializer=` names one. @default 'json' */
  readonly serializer?: 'json' | 'msgpack';
  /** kombu 5.3+ typed JSON envelopes in task bodies (the app's `typedJson`). @default false */
  readonly typedJson?: boolean;
  /** Called after each confirmed publish (the app sends `task-sent` from here when enabled). */
  readonly onPublished?: (message: OutgoingMessage, route: Route) => void;
}

export class TaskPublisher {
  readonly origin: string;
  readonly #deps: PublisherDeps;

  constructor(deps: PublisherDeps) {
    this.#deps = deps;
    this.origin = deps.origin ?? anonNodename();
  }

  async sendTask(
    name: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>>,
    options: ApplyOptions,
    spec?: TaskSpec,
  ): Promise<RpcAsyncResult<unknown>> {
    const taskOptions = spec?.options ?? {};
    const route = resolveRoute(options, spec, this.#deps.defaultQueue, this.#deps.router, name);
    const routed = routeOf(spec, this.#deps.router, name);
    const now = new Date();
    const replyTo = this.#deps.results.replyTarget ?? (await this.#replyTo());
    const id = options.taskId ?? randomUUID();
    // Assigned field by field (no spread of a temporary object per optional field): this
    // runs once per published task.
    const input: Mutable<TaskMessageInput> = {
      id,
      task: name,
      args,
      kwargs,
      replyTo,
      origin: this.origin,
      now,
      eta: options.eta ?? (options.countdown !== undefined ? new Date(now.getTime() + options.countdown * 1000) : null),
      expires: resolveExpires(options.expires ?? taskOptions.expires ?? undefined, now),
      timeLimit: [options.timeLimit ?? taskOptions.time_limit ?? null, options.softTimeLimit ?? taskOptions.soft_time_limit ?? null],
      ignoreResult: options.ignoreResult ?? taskOptions.ignore_result ?? false,
      // spec-less sendTask mirrors Python's send_task(args=[…]), which writes argsrepr as a list.
      argsReprStyle: spec ? 'tuple' : 'list',
    };
    const priority = options.priority ?? taskOptions.priority ?? routed?.priority ?? defaultPriority(options, spec, routed);
    if (priority !== undefined) input.priority = priority;
    if (options.parentId !== undefined) input.parentId = options.parentId;
    if (options.rootId !== undefined) input.rootId = options.rootId;
    if (options.shadow !== undefined) input.shadow = options.shadow;
    if (options.headers !== undefined) input.extraHeaders = options.headers;
    // A serializer the protocol layer does not speak (pickle, yaml) is refused there, never replaced by JSON.
    const serializer = (options.serializer ?? taskOptions.serializer ?? this.#deps.serializer) as 'json' | 'msgpack' | undefined;
    if (serializer !== undefined) input.serializer = serializer;
    if (this.#deps.typedJson !== undefined) input.typedJson = this.#deps.typedJson;
    if (options.link !== undefined || options.linkError !== undefined) input.embed = { callbacks: embedList(options.link), errbacks: embedList(options.linkError) };
    if (input.ignoreResult) {
      // As Python's send_task: the backend is not told to watch the id, and get() does not wait.
      await this.publish(input, route);
      return new RpcAsyncResult<unknown>(id, { ignored: true });
    }
    const result = this.#deps.results.track<unknown>(id);
    // A reply consumer lost while this message is on its way must not abandon the result: the
    // message is sent (again) only once the reply queue is back.
    result.publishing = true;
    try {
      await this.publish(input, route);
    } catch (error) {
      this.#deps.results.forget(id);
      throw error;
    } finally {
      result.publishing = false;
    }
    return result;
  }

  /**
   * Encodes and publishes one task message and resolves once the broker confirmed it.
   * @internal Lower level than sendTask: the caller sets every header (tests use it for retries).
   */
  async publish(input: TaskMessageInput, requested: Route): Promise<void> {
    const message = encodeTaskMessage(input);
    const { onPublished } = this.#deps;
    const sent = this.#deps.messagePublisher.publishTask(message, requested, input.eta);
    return onPublished ? sent.then(() => onPublished(message, requested)) : sent;
  }

  /** The reply target, from the broker's publisher when it must wait for the broker. */
  #replyTo(): Promise<string> {
    const { messagePublisher, results } = this.#deps;
    return messagePublisher.replyTo ? messagePublisher.replyTo(Date.now()) : results.ensure();
  }
}

/** Python sends priority 0 with default routing and no priority property when `queue=` is given (captures §2). */
function defaultPriority(options: ApplyOptions, spec: TaskSpec | undefined, routed: RouteOptions | null): number | undefined {
  return options.queue === undefined && spec?.options.queue === undefined && routed?.queue === undefined ? 0 : undefined;
}

function resolveExpires(expires: Date | number | null | undefined, now: Date): Date | null {
  if (expires === undefined || expires === null) return null;
  return typeof expires === 'number' ? new Date(now.getTime() + expires * 1000) : expires;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
