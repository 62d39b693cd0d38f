/**
 * The task context of the handler that is running now, reachable from any code it calls
 * (Python's `current_task.request`) without threading it through arguments.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskContext } from '../app/api.js';

const storage = new AsyncLocalStorage<TaskContext>();

/** The context of the task whose handler is running, or undefined outside a handler. */
export function currentTask(): TaskContext | undefined {
  return storage.getStore();
}

/** @internal Runs `fn(...args)` with `context` as the current task (arguments passed through: no closure per call). */
export function runWithContext<A extends unknown[], T>(context: TaskContext, fn: (...args: A) => T, ...args: A): T {
  return storage.run(context, fn, ...args);
}
