/**
 * Where a task message goes: the default queue and the route (exchange, routing key)
 * resolved from the call's options and the task's decorator options. Shared by the
 * publisher, canvas and the Redis chord, so it sits apart from all three (no cycle).
 */
import type { ApplyOptions } from '../app/api.js';
import type { TaskSpec } from '../protocol/spec.js';

export const DEFAULT_QUEUE = 'celery';

/** Where a message goes: exchange '' and the queue name as routing key, unless told otherwise. */
export interface Route {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
}

export function resolveRoute(options: ApplyOptions, spec?: TaskSpec, defaultQueue: string = DEFAULT_QUEUE): Route {
  const taskOptions = spec?.options ?? {};
  const queue = options.queue ?? taskOptions.queue ?? defaultQueue;
  const exchange = options.exchange ?? taskOptions.exchange ?? '';
  const routingKey = options.routingKey ?? taskOptions.routing_key ?? queue;
  return { queue, exchange, routingKey };
}
