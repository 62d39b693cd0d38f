/**
 * The client: turns a call into a protocol v2 message (protocol.ts), publishes it as
 * Python's `apply_async` does (default exchange '', routing key = queue, persistent,
 * the queue declared durable with no arguments as Python declares it) with publisher
 * confirms, and hands back an AsyncResult tracked by the rpc:// backend.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Options } from 'amqplib';
import type { ApplyOptions } from './api.js';
import { embedList } from './canvas.js';
import type { Logger } from './logger.js';
import { encodeTaskMessage, type OutgoingMessage, type TaskMessageInput } from './protocol.js';
import { RpcAsyncResult } from './results.js';
import type { TaskSpec } from './spec.js';
import { CELERY_QUEUE, type QueueDeclaration, type Transport } from './transport.js';

export const DEFAULT_QUEUE = 'celery';

/** Python's `anon_nodename()`: the origin header of a plain client. */
export function anonNodename(): string {
  return `gen${process.pid}@${hostname()}`;
}

/** What a client needs from its result backend (RpcResultBackend, or the Redis one in redis-app.ts). */
export interface ResultTracker {
  /** Resolves with the `reply_to` to send (the rpc reply queue, or the client's id with a key-value backend). */
  ensure(): Promise<string>;
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
  /** How a queue is declared before publishing to it (queue arguments such as x-max-priority). @default CELERY_QUEUE */
  readonly queueDeclaration?: (queue: string) => QueueDeclaration;
  /** Called after each confirmed publish (the app sends `task-sent` from here when enabled). */
  readonly onPublished?: (message: OutgoingMessage, route: Route) => void;
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
    const route = resolveRoute(options, spec, this.#deps.defaultQueue);
    const now = new Date();
    const replyTo = await this.#deps.results.ensure();
    const id = options.taskId ?? randomUUID();
    const input: TaskMessageInput = {
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
      ...optional('priority', options.priority ?? taskOptions.priority ?? defaultPriority(options, spec)),
      ...optional('parentId', options.parentId),
      ...optional('rootId', options.rootId),
      ...optional('shadow', options.shadow),
      ...optional('extraHeaders', options.headers),
      // A serializer the protocol layer does not speak (pickle, yaml) is refused there, never replaced by JSON.
      ...optional('serializer', (options.serializer ?? taskOptions.serializer) as 'json' | 'msgpack' | undefined),
      // spec-less sendTask mirrors Python's send_task(args=[…]), which writes argsrepr as a list.
      argsReprStyle: spec ? 'tuple' : 'list',
      ...(options.link !== undefined || options.linkError !== undefined ? { embed: { callbacks: embedList(options.link), errbacks: embedList(options.linkError) } } : {}),
    };
    if (input.ignoreResult) {
      // As Python's send_task: the backend is not told to watch the id, and get() does not wait.
      await this.publish(input, route);
      return new RpcAsyncResult<unknown>(id, { ignored: true });
    }
    const result = this.#deps.results.track<unknown>(id);
    try {
      await this.publish(input, route);
    } catch (error) {
      this.#deps.results.forget(id);
      throw error;
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
    // Synchronous when the channel is open and the queue declared: no promise hops per message.
    const channel = transport.openPublishChannel ?? (await transport.publishChannel());
    // Declaring only makes sense for the default exchange, where the routing key is the queue.
    if (route.exchange === '' && !transport.isDeclared(channel, route.routingKey)) {
      await transport.assertQueue(channel, route.routingKey, this.#deps.queueDeclaration?.(route.routingKey) ?? CELERY_QUEUE);
    }
    const { properties } = message;
    const publishOptions: Options.Publish = {
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
      deliveryMode: properties.deliveryMode,
      headers: message.wireHeaders,
    };
    if (properties.priority !== undefined) publishOptions.priority = properties.priority;
    if (properties.expiration !== undefined) publishOptions.expiration = properties.expiration;
    const sent = transport.publish(channel, route.exchange, route.routingKey, message.body, publishOptions);
    return onPublished ? sent.then(() => onPublished(message, route)) : sent;
  }
}

export function resolveRoute(options: ApplyOptions, spec?: TaskSpec, defaultQueue: string = DEFAULT_QUEUE): Route {
  const taskOptions = spec?.options ?? {};
  const queue = options.queue ?? taskOptions.queue ?? defaultQueue;
  const exchange = options.exchange ?? taskOptions.exchange ?? '';
  const routingKey = options.routingKey ?? taskOptions.routing_key ?? queue;
  return { queue, exchange, routingKey };
}

/** Python sends priority 0 with default routing and no priority property when `queue=` is given (captures §2). */
function defaultPriority(options: ApplyOptions, spec?: TaskSpec): number | undefined {
  return options.queue === undefined && spec?.options.queue === undefined ? 0 : undefined;
}

function resolveExpires(expires: Date | number | null | undefined, now: Date): Date | null {
  if (expires === undefined || expires === null) return null;
  return typeof expires === 'number' ? new Date(now.getTime() + expires * 1000) : expires;
}

/** `{ key: value }` when the value is defined, `{}` otherwise (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
