/**
 * `self.retry()` for TS handlers (`celery/app/task.py` `Task.retry`, protocol.md §5.3):
 * `context.retry({ countdown, exc, maxRetries })` throws a `Retry`, which the worker
 * turns into a new message with the same id and `retries + 1` (republished to the queue
 * the task came from, before the RETRY state is reported and the original acked); past
 * `max_retries` it throws the original exception (or `MaxRetriesExceededError`), which
 * ends the task in FAILURE like any other error.
 */
import type { Route } from '../client/routes.js';
import type { JsonValue } from '../protocol/spec.js';
import type { TaskMessageInput, TaskRequest } from '../protocol/message.js';

/** Python's `Task.max_retries` and `Task.default_retry_delay` defaults. */
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_RETRY_DELAY = 180;

export interface RetryOptions {
  /** Seconds from now; default: the task's `default_retry_delay` (180 s). */
  readonly countdown?: number;
  /** Run the retry no earlier than this (wins over countdown). */
  readonly eta?: Date;
  /** The error the RETRY state (and, once retries run out, the FAILURE) reports. */
  readonly exc?: unknown;
  /** Overrides the task's `max_retries`; null retries forever. */
  readonly maxRetries?: number | null;
  /** Replace the positional / keyword arguments of the retried call. */
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
}

/** Thrown by `context.retry()`: the worker republishes and reports RETRY. */
export class Retry extends Error {
  readonly exc: unknown;
  readonly eta: Date;
  /** Seconds, as the RETRY traceback's "Retry in Ns" says. */
  readonly countdownSeconds: number;
  readonly args: readonly unknown[] | undefined;
  readonly kwargs: Readonly<Record<string, unknown>> | undefined;

  constructor(init: { exc: unknown; eta: Date; countdownSeconds: number; args?: readonly unknown[] | undefined; kwargs?: Readonly<Record<string, unknown>> | undefined }) {
    super(`Retry in ${init.countdownSeconds}s`);
    this.name = 'Retry';
    this.exc = init.exc;
    this.eta = init.eta;
    this.countdownSeconds = init.countdownSeconds;
    this.args = init.args;
    this.kwargs = init.kwargs;
  }
}

/** `celery.exceptions.MaxRetriesExceededError`, when retries run out and no `exc` was given. */
export class MaxRetriesExceededError extends Error {
  readonly pythonType = 'MaxRetriesExceededError';
  constructor(message: string) {
    super(message);
    this.name = 'MaxRetriesExceededError';
  }
}

/** The request fields retry needs. */
export type RetryRequest = Pick<TaskRequest, 'id' | 'task' | 'retries' | 'args' | 'kwargs'>;

/**
 * What `context.retry(options)` does: throws the Retry to republish, or (out of retries)
 * the error the task fails with. Never returns.
 */
export function raiseRetry(
  request: RetryRequest,
  taskOptions: { readonly max_retries?: number | null | undefined; readonly default_retry_delay?: number | undefined },
  options: RetryOptions = {},
  now: number = Date.now(),
): never {
  const retries = request.retries + 1;
  const max = options.maxRetries !== undefined ? options.maxRetries : taskOptions.max_retries !== undefined ? taskOptions.max_retries : DEFAULT_MAX_RETRIES;
  if (max !== null && retries > max) {
    if (options.exc !== undefined) throw options.exc;
    throw new MaxRetriesExceededError(`Can't retry ${request.task}[${request.id}] args:${JSON.stringify(request.args)} kwargs:${JSON.stringify(request.kwargs)}`);
  }
  const countdown = options.eta ? Math.max(0, (options.eta.getTime() - now) / 1000) : (options.countdown ?? taskOptions.default_retry_delay ?? DEFAULT_RETRY_DELAY);
  throw new Retry({
    exc: options.exc,
    eta: options.eta ?? new Date(now + countdown * 1000),
    countdownSeconds: countdown,
    args: options.args,
    kwargs: options.kwargs,
  });
}

/** The v2 headers Python writes itself; everything else is custom and travels with a retry. */
const STANDARD_HEADERS = new Set([
  'lang', 'task', 'id', 'shadow', 'eta', 'expires', 'group', 'group_index', 'retries', 'timelimit',
  'root_id', 'parent_id', 'argsrepr', 'kwargsrepr', 'origin', 'ignore_result',
]);

/**
 * The republished message (captures `v2-task-retry-republished.json`): same id, retries
 * + 1, eta of the retry, same root/group/embed/expires (the original ISO string: 5.2's own
 * retry crashes on it, we do not)/timelimit/reply_to/custom headers/priority, parent_id =
 * the task's own id, routed back to the queue it came from.
 */
export function retryMessage(request: TaskRequest, retry: Retry, origin: string): { input: TaskMessageInput; route: Route } {
  const extra: Record<string, JsonValue> = {};
  for (const key of Object.keys(request.headers)) {
    if (!STANDARD_HEADERS.has(key)) extra[key] = request.headers[key] as JsonValue;
  }
  const info = request.deliveryInfo;
  const route: Route =
    info === null || info.exchange === ''
      ? { queue: info?.routingKey ?? 'celery', exchange: '', routingKey: info?.routingKey ?? 'celery' }
      : { queue: info.routingKey, exchange: info.exchange, routingKey: info.routingKey };
  const input: TaskMessageInput = {
    id: request.id,
    task: request.task,
    args: retry.args ?? request.args,
    kwargs: retry.kwargs ?? request.kwargs,
    replyTo: request.replyTo ?? '',
    origin,
    eta: retry.eta,
    expires: request.expires,
    retries: request.retries + 1,
    timeLimit: request.timeLimit,
    rootId: request.rootId ?? request.id,
    parentId: request.id,
    group: request.group,
    groupIndex: request.groupIndex,
    shadow: request.shadow,
    ignoreResult: request.ignoreResult,
    embed: request.embed,
    ...(request.priority !== null ? { priority: request.priority } : {}),
    ...(Object.keys(extra).length > 0 ? { extraHeaders: extra } : {}),
  };
  return { input, route };
}
