/**
 * The application object: configuration, one broker connection, the result backend,
 * and the factories for clients and workers. (Skeleton; the runtime issue fills it in.)
 */
import type { ApplyOptions, AsyncResult, TaskImplementation, Worker, WorkerOptions } from './api.js';
import type { TaskSpec } from './spec.js';

export interface CeleryOptions {
  /** AMQP URL. @default 'amqp://guest:guest@127.0.0.1:5672//' */
  readonly broker?: string;
  /** Result backend URL. @default 'rpc://' */
  readonly backend?: string;
}

export class Celery {
  constructor(readonly options: CeleryOptions = {}) {}

  /** Publishes a task by name (the untyped escape hatch). */
  sendTask(
    _name: string,
    _args: readonly unknown[] = [],
    _kwargs: Readonly<Record<string, unknown>> = {},
    _options: ApplyOptions = {},
    _spec?: TaskSpec,
  ): Promise<AsyncResult<unknown>> {
    throw new Error('not implemented yet');
  }

  createWorker(_tasks: readonly TaskImplementation[], _options: WorkerOptions = {}): Worker {
    throw new Error('not implemented yet');
  }

  async close(): Promise<void> {}
}
