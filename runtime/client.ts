/**
 * The client: turns a call into a protocol v2 message (protocol.ts), publishes it as
 * Python's `apply_async` does (default exchange '', routing key = queue, persistent,
 * the queue declared durable with no arguments as Python declares it) with publisher
 * confirms, and hands back an AsyncResult tracked by the rpc:// backend.
 *
 * Publishing is safe by default (issue 5): persistent, `mandatory` (a message no queue
 * takes is an UNROUTABLE error, not a silent drop), and resolved only by the broker's
 * confirm. A publish that meets a lost connection (before or after it was sent) waits for
 * the transport's reconnect and is sent again, until `publishTimeout` has passed since the
 * call; then it rejects with PUBLISH_TIMEOUT. A message sent again may arrive twice (same
 * task id): delivery is at-least-once, never silently at-most-once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Options } from 'amqplib';
import type { ApplyOptions } from './api.js';
import { embedList } from './canvas.js';
import type { Logger } from './logger.js';
import { encodeTaskMessage, type OutgoingMessage, type TaskMessageInput } from './protocol.js';
import { RpcAsyncResult, RpcResultBackend } from './results.js';
import type { TaskSpec } from './spec.js';
import type { RouteOptions, TaskRouter } from './client/routes.js';
import { CELERY_QUEUE, messageOf, type QueueDeclaration, type Transport, TransportError } from './transport.js';

export const DEFAULT_QUEUE = 'celery';
/** Milliseconds a publish may wait for the broker (reconnect included) before it rejects. */
export const DEFAULT_PUBLISH_TIMEOUT = 30_000;

/** Python's `anon_nodename()`: the origin header of a plain client. */
export function anonNodename(): string {
  return `gen${process.pid}@${hostname()}`;
}

/** What a client needs from its result backend (RpcResultBackend, or the Redis one in redis-app.ts). */
export interface ResultTracker {
  /** Resolves with the `reply_to` to send (the rpc reply queue, or the client's id with a key-value backend). */
  ensure(): Promise<string>;
  /** The reply target when it is already set up (then sendTask does not wait for ensure()). */
  readonly replyTarget?: string | undefined;
  /** Registers a task id before its message is published, so an early result finds it. */
  track<R>(taskId: string): RpcAsyncResult<R>;
  forget(taskId: string): void;
}

/** Publishes one encoded task message on a broker other than the AMQP transport (Redis: redis-app.ts). */
export interface MessagePublisher {
  publishTask(message: OutgoingMessage, route: Route): Promise<void>;
}

export interface PublisherDeps {
  readonly transport: Transport;
  readonly results: ResultTracker;
  /** Set for a non-AMQP broker; the AMQP transport is used otherwise. */
  readonly messagePublisher?: MessagePublisher;
  readonly logger: Logger;
  /** @default `gen<pid>@<hostname>` */
  readonly origin?: string;
  /** Python's `task_default_queue`. @default 'celery' */
  readonly defaultQueue?: string;
  /** The app's `taskRoutes`, compiled; ranked after routes read from the Python source. */
  readonly router?: TaskRouter;
  /** How a queue is declared before publishing to it (queue arguments such as x-max-priority). @default CELERY_QUEUE */
  readonly queueDeclaration?: (queue: string) => QueueDeclaration;
  /** Python's `task_serializer`: used when neither the call nor the task's `serializer=` names one. @default 'json' */
  readonly serializer?: 'json' | 'msgpack';
  /** kombu 5.3+ typed JSON envelopes in task bodies (the app's `typedJson`). @default false */
  readonly typedJson?: boolean;
  /** Called after each confirmed publish (the app sends `task-sent` from here when enabled). */
  readonly onPublished?: (message: OutgoingMessage, route: Route) => void;
  /** Milliseconds a publish waits for the broker, reconnects included. @default 30000 */
  readonly publishTimeout?: number;
}

/** Where a message goes: exchange '' and the queue name as routing key, unless told otherwise. */
export interface Route {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
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
    const replyTo = this.#deps.results.replyTarget ?? (await this.#replyTo(Date.now()));
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
  async publish(input: TaskMessageInput, route: Route): Promise<void> {
    const message = encodeTaskMessage(input);
    const { onPublished } = this.#deps;
    if (this.#deps.messagePublisher) {
      const sent = this.#deps.messagePublisher.publishTask(message, route);
      return onPublished ? sent.then(() => onPublished(message, route)) : sent;
    }
    const { transport } = this.#deps;
    const { properties } = message;
    const publishOptions: Options.Publish = {
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
      deliveryMode: properties.deliveryMode,
      headers: message.wireHeaders,
      mandatory: true,
    };
    if (properties.priority !== undefined) publishOptions.priority = properties.priority;
    if (properties.expiration !== undefined) publishOptions.expiration = properties.expiration;
    const startedAt = Date.now();
    let sent: Promise<void>;
    // Synchronous when the channel is open and the queue declared: no promise hops per message.
    const channel = transport.openPublishChannel;
    if (channel && (route.exchange !== '' || transport.isDeclared(channel, route.routingKey))) {
      sent = transport
        .publish(channel, route.exchange, route.routingKey, message.body, publishOptions)
        .catch((error: unknown) => this.#publishAgain(error, message, route, publishOptions, startedAt));
    } else {
      sent = this.#publishAgain(undefined, message, route, publishOptions, startedAt);
    }
    return onPublished ? sent.then(() => onPublished(message, route)) : sent;
  }

  /** The slow path: (re)opens the channel, declares the queue and publishes, retrying connection losses until the deadline. */
  async #publishAgain(first: unknown, message: OutgoingMessage, route: Route, publishOptions: Options.Publish, startedAt: number): Promise<void> {
    const { transport, results } = this.#deps;
    const timeout = this.#deps.publishTimeout ?? DEFAULT_PUBLISH_TIMEOUT;
    const deadline = startedAt + timeout;
    const target = route.exchange === '' ? `queue ${route.routingKey}` : `exchange ${route.exchange} (routing key ${route.routingKey})`;
    const what = `task ${String(message.headers['task'])}[${String(message.headers['id'])}]`;
    let lastError: unknown = first;
    for (let attempt = 0; ; attempt++) {
      if (lastError !== undefined) {
        if (!this.#retryable(lastError)) throw lastError;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new TransportError(
            'PUBLISH_TIMEOUT',
            `${what} was not published to ${target}: the broker did not take it within ${timeout} ms (publishTimeout); last error: ${errorText(lastError)}`,
            { cause: lastError },
          );
        }
        this.#deps.logger.warn(`publishing ${what} again after a lost connection`, { attempt, error: errorText(lastError) });
        // A channel that died with a live connection would otherwise be retried in a tight loop.
        await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500, left)));
      }
      try {
        const left = Math.max(1, deadline - Date.now());
        // The reply queue is auto-delete: after a reconnect it must exist again before a worker answers.
        if (lastError !== undefined && properties(publishOptions).replyTo) await within(results.ensure(), left, transport);
        const channel = transport.openPublishChannel ?? (await within(transport.publishChannel(), left, transport));
        if (route.exchange === '' && !transport.isDeclared(channel, route.routingKey)) {
          await within(transport.assertQueue(channel, route.routingKey, this.#deps.queueDeclaration?.(route.routingKey) ?? CELERY_QUEUE), left, transport);
        }
        await transport.publish(channel, route.exchange, route.routingKey, message.body, publishOptions);
        if (attempt > 0) this.#deps.logger.info(`published ${what} after ${attempt + 1} attempts`);
        return;
      } catch (error) {
        lastError = error;
      }
    }
  }

  /** The reply target, waiting out a reconnect (bounded by publishTimeout) like a publish does. */
  async #replyTo(startedAt: number): Promise<string> {
    const { results, transport } = this.#deps;
    // Only the rpc backend waits on the AMQP connection; a Redis tracker answers by itself.
    if (!(results instanceof RpcResultBackend)) return results.ensure();
    const timeout = this.#deps.publishTimeout ?? DEFAULT_PUBLISH_TIMEOUT;
    for (let attempt = 1; ; attempt++) {
      const left = startedAt + timeout - Date.now();
      try {
        return await within(results.ensure(), Math.max(1, left), transport);
      } catch (error) {
        if (!this.#retryable(error)) throw error;
        if (startedAt + timeout - Date.now() <= 0) {
          throw new TransportError('PUBLISH_TIMEOUT', `the rpc reply queue could not be set up within ${timeout} ms (publishTimeout); last error: ${errorText(error)}`, { cause: error });
        }
        await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500)));
      }
    }
  }

  /** Whether an error means "the connection went away" (send again later) rather than "the broker said no". */
  #retryable(error: unknown): boolean {
    if (error instanceof TransportError) {
      if (error.code === 'CONNECTION_LOST' || error.code === 'DISCONNECTED') return true;
      if (error.code === 'DECLARE_FAILED') return this.#deps.transport.reconnecting || /closed/i.test(error.message);
      return false;
    }
    // amqplib's IllegalOperationError ("Channel closed", "Connection closed") while the connection goes down.
    return error instanceof Error && error.name === 'IllegalOperationError';
  }
}

function properties(options: Options.Publish): { replyTo: string | undefined } {
  return { replyTo: typeof options.replyTo === 'string' && options.replyTo !== '' ? options.replyTo : undefined };
}

/** Redacted: an error from below may quote a URL. */
function errorText(error: unknown): string {
  return messageOf(error);
}

/** `promise`, or a DISCONNECTED TransportError once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, transport: Transport): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TransportError('DISCONNECTED', `the broker at ${transport.redactedUrl} did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Celery's merge, key by key, first source that sets a key wins: the call's options, the
 * decorator's, the first matching route (routes read from the Python source, then the app's
 * `taskRoutes`), then `task_default_queue` (the source's, then the app's).
 */
export function resolveRoute(options: ApplyOptions, spec?: TaskSpec, defaultQueue: string = DEFAULT_QUEUE, router?: TaskRouter, name?: string): Route {
  const taskOptions = spec?.options ?? {};
  const routed = routeOf(spec, router, name);
  const queue = options.queue ?? taskOptions.queue ?? routed?.queue ?? spec?.defaultQueue ?? defaultQueue;
  const exchange = options.exchange ?? taskOptions.exchange ?? routed?.exchange ?? '';
  const routingKey = options.routingKey ?? taskOptions.routing_key ?? routed?.routing_key ?? queue;
  return { queue, exchange, routingKey };
}

/** The route the spec carries from the Python source, else the app's `taskRoutes` for the task's name. */
export function routeOf(spec: TaskSpec | undefined, router: TaskRouter | undefined, name: string | undefined): RouteOptions | null {
  if (spec?.route) return spec.route;
  const task = name ?? spec?.name;
  return router && task !== undefined ? router.route(task) : null;
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
