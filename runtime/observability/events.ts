/**
 * Celery events (`celery events`, Flower, `app.events.Receiver`): bodies built exactly
 * as `celery/events/dispatcher.py` builds them (key order `hostname, utcoffset, pid,
 * clock, <fields>, timestamp, type`; captures README §6), published to the `celeryev`
 * topic exchange with routing key = type with `-` → `.`, transient, JSON, header
 * `hostname`. Task events go out one per message (receivers take a dict or a list;
 * Python batches them as `task.multi`, which is an optimisation, not a format).
 *
 * The worker heartbeat (`worker-online`, `worker-heartbeat` every `freq` seconds,
 * `worker-offline`) is sent whenever the dispatcher runs, as Python sends it unless
 * heartbeats are disabled; task events only when enabled (Python's `-E`).
 */
import { loadavg } from 'node:os';
import { LamportClock } from './control.js';
import { encodeJson } from '../protocol/kombu-json.js';
import { excRepr, safeRepr } from '../protocol/pyrepr.js';
import { messageOf, type Logger } from './logger.js';

export const EVENT_EXCHANGE = 'celeryev';
/** `sw_ident` of a TS worker: Flower shows it next to Python's `py-celery`. */
export const SW_IDENT = 'celery-gen';
export const SW_VERSION = '0.1.0';

/** Python's `utcoffset()`: whole hours *west* of UTC (0 on UTC hosts, -1 for CET). */
export function pythonUtcOffset(date: Date = new Date()): number {
  return Math.floor(date.getTimezoneOffset() / 60);
}

/** `task-failed` to `task.failed`. */
export function eventRoutingKey(type: string): string {
  return type.replace(/-/g, '.');
}

export interface EventEnvelope {
  readonly hostname: string;
  readonly pid: number;
  readonly clock: number;
  /** Unix seconds (float). */
  readonly timestamp: number;
  readonly utcoffset?: number;
}

/** One event body, keys in Python's order. */
export function eventBody(type: string, fields: Readonly<Record<string, unknown>>, envelope: EventEnvelope): Record<string, unknown> {
  const body: Record<string, unknown> = {
    hostname: envelope.hostname,
    utcoffset: envelope.utcoffset ?? pythonUtcOffset(),
    pid: envelope.pid,
    clock: envelope.clock,
  };
  for (const key of Object.keys(fields)) body[key] = fields[key];
  body['timestamp'] = envelope.timestamp;
  body['type'] = type;
  return body;
}

/** Where encoded events go (AMQP exchange or Redis fanout). */
export interface EventSink {
  publish(routingKey: string, body: Buffer, hostname: string): Promise<void>;
  close(): Promise<void>;
}

export interface EventDispatcherOptions {
  readonly sink: EventSink;
  readonly hostname: string;
  readonly logger: Logger;
  readonly clock?: LamportClock;
  /** Send task-* events (Python's `-E` / `worker_send_task_events`). @default false */
  readonly taskEvents?: boolean;
  /** @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/** Sends events; never throws (an event lost to a broker hiccup is logged, as Python logs it). */
export class EventDispatcher {
  readonly hostname: string;
  readonly clock: LamportClock;
  taskEvents: boolean;
  readonly #sink: EventSink;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: EventDispatcherOptions) {
    this.#sink = options.sink;
    this.hostname = options.hostname;
    this.#logger = options.logger;
    this.clock = options.clock ?? new LamportClock();
    this.taskEvents = options.taskEvents ?? false;
    this.#now = options.now ?? (() => Date.now() / 1000);
  }

  /** Builds and publishes one event; resolves when it was handed to the broker. */
  send(type: string, fields: Readonly<Record<string, unknown>> = {}): Promise<void> {
    const body = eventBody(type, fields, { hostname: this.hostname, pid: process.pid, clock: this.clock.forward(), timestamp: this.#now() });
    let payload: Buffer;
    try {
      payload = Buffer.from(encodeJson(body), 'utf8');
    } catch (error) {
      this.#logger.error(`cannot encode event ${type}: ${messageOf(error)}`);
      return Promise.resolve();
    }
    const sending = this.#sink.publish(eventRoutingKey(type), payload, this.hostname).catch((error: unknown) => {
      this.#logger.warn(`event ${type} not sent: ${messageOf(error)}`);
    });
    this.#pending.add(sending);
    void sending.finally(() => this.#pending.delete(sending));
    return sending;
  }

  /** A task-* event, only when task events are on. */
  task(type: TaskEventType, fields: Readonly<Record<string, unknown>>): void {
    if (this.taskEvents) void this.send(type, fields);
  }

  /** Waits for events in flight (before the connection closes). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#sink.close();
  }
}

export type TaskEventType = 'task-received' | 'task-started' | 'task-succeeded' | 'task-failed' | 'task-retried' | 'task-revoked' | 'task-rejected' | 'task-sent';

/** The request fields `task-received` and `task-sent` carry. */
export interface TaskEventRequest {
  readonly id: string;
  readonly task: string;
  readonly argsrepr: string;
  readonly kwargsrepr: string;
  readonly rootId: string | null;
  readonly parentId: string | null;
  readonly retries: number;
  readonly eta: string | null;
  readonly expires: string | null;
}

export function taskReceivedFields(request: TaskEventRequest): Record<string, unknown> {
  return {
    uuid: request.id,
    name: request.task,
    args: request.argsrepr,
    kwargs: request.kwargsrepr,
    root_id: request.rootId,
    parent_id: request.parentId,
    retries: request.retries,
    eta: request.eta,
    expires: request.expires,
  };
}

export function taskSentFields(request: TaskEventRequest, route: { queue: string; exchange: string; routingKey: string }): Record<string, unknown> {
  return {
    uuid: request.id,
    root_id: request.rootId,
    parent_id: request.parentId,
    name: request.task,
    args: request.argsrepr,
    kwargs: request.kwargsrepr,
    retries: request.retries,
    eta: request.eta,
    expires: request.expires,
    queue: route.queue,
    exchange: route.exchange,
    routing_key: route.routingKey,
  };
}

/** `task-succeeded`: the result as Python's `saferepr`, runtime in seconds. */
export function taskSucceededFields(id: string, value: unknown, runtimeSeconds: number): Record<string, unknown> {
  return { uuid: id, result: safeRepr(value), runtime: runtimeSeconds };
}

/** `task-failed` / `task-retried`: the exception as `repr()`, the traceback text. */
export function taskFailedFields(id: string, excType: string, excMessage: readonly unknown[], traceback: string | null): Record<string, unknown> {
  return { uuid: id, exception: excRepr(excType, excMessage), traceback: traceback ?? '' };
}

export function taskRevokedFields(id: string, options: { expired: boolean; terminated?: boolean }): Record<string, unknown> {
  return { uuid: id, terminated: options.terminated ?? false, signum: null, expired: options.expired };
}

/** Fields of `worker-online` / `worker-heartbeat` / `worker-offline`. */
export function workerFields(freq: number, active: number, processed: number): Record<string, unknown> {
  return {
    freq,
    active,
    processed,
    loadavg: loadavg().map((n) => Math.round(n * 100) / 100),
    sw_ident: SW_IDENT,
    sw_ver: SW_VERSION,
    sw_sys: process.platform === 'linux' ? 'Linux' : process.platform === 'darwin' ? 'Darwin' : process.platform,
  };
}

/** `worker-online`, then `worker-heartbeat` every `freq` seconds, `worker-offline` at stop. */
export class WorkerHeartbeat {
  readonly #dispatcher: EventDispatcher;
  readonly #counts: () => { active: number; processed: number };
  readonly #freq: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(dispatcher: EventDispatcher, counts: () => { active: number; processed: number }, freq = 2.0) {
    this.#dispatcher = dispatcher;
    this.#counts = counts;
    this.#freq = freq;
  }

  #send(type: 'worker-online' | 'worker-heartbeat' | 'worker-offline'): Promise<void> {
    const { active, processed } = this.#counts();
    return this.#dispatcher.send(type, workerFields(this.#freq, active, processed));
  }

  async start(): Promise<void> {
    await this.#send('worker-online');
    this.#timer = setInterval(() => void this.#send('worker-heartbeat'), this.#freq * 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#send('worker-offline');
  }
}
