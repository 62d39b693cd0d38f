/**
 * The two functions generated modules call: `bindTask` turns a spec into a typed client
 * on an app, `implementTask` pairs a spec with a user's handler for a worker.
 */
import type { ApplyOptions, AsyncResult, TaskClient, TaskContext, TaskImplementation } from '../app/api.js';
import type { Celery } from '../app/celery.js';
import type { TaskSpec } from '../protocol/spec.js';

export function bindTask<Args extends unknown[], Kwargs extends object, Result>(
  app: Celery,
  spec: TaskSpec<Args, Kwargs, Result>,
): TaskClient<Args, Kwargs, Result> {
  return {
    name: spec.name,
    delay: (...args: Args) => app.sendTask(spec.name, args, {}, {}, spec) as Promise<AsyncResult<Result>>,
    applyAsync: (args?: Partial<Args>, kwargs?: Partial<Kwargs>, options?: ApplyOptions) =>
      app.sendTask(spec.name, (args ?? []) as unknown[], (kwargs ?? {}) as Record<string, unknown>, options ?? {}, spec) as Promise<
        AsyncResult<Result>
      >,
  };
}

/**
 * The handler is typed by the generated `TaskHandlers` interface; here it only has to be
 * callable, with the context first for `bind=True` tasks.
 */
export function implementTask(spec: TaskSpec, handler: (...args: never[]) => unknown): TaskImplementation {
  const call = handler as (...args: unknown[]) => unknown;
  return {
    spec,
    run: spec.bind
      ? (context: TaskContext, args: readonly unknown[]) => call(context, ...args)
      : (_context: TaskContext, args: readonly unknown[]) => call(...args),
  };
}
