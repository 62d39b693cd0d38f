/**
 * The application object: configuration, one broker connection (opened lazily, on the
 * first publish or worker start), the rpc:// result backend, and the factories for
 * clients and workers.
 */
import type { ApplyOptions, TaskImplementation, Worker, WorkerOptions } from './api.js';
import { DEFAULT_QUEUE, TaskPublisher } from './client.js';
import { CeleryGenError } from './errors.js';
import { consoleLogger, type Logger } from './logger.js';
import { type RpcAsyncResult, RpcResultBackend } from './results.js';
import type { TaskSpec } from './spec.js';
import { DEFAULT_BROKER_URL, Transport, redactUrl } from './transport.js';
import { CeleryWorker } from './worker.js';

export interface CeleryOptions {
  /** AMQP URL (`amqp://` or `amqps://`). @default 'amqp://guest:guest@127.0.0.1:5672//' */
  readonly broker?: string;
  /** Result backend URL; only `rpc://` for now. @default 'rpc://' */
  readonly backend?: string;
  /** Where the runtime logs. @default consoleLogger() (stderr, level from $CELERY_GEN_LOG_LEVEL or 'info') */
  readonly logger?: Logger;
  /**
   * The queue tasks go to when neither the call nor the task's `queue=` option names one,
   * and the queue workers consume by default (Python's `task_default_queue`). @default 'celery'
   */
  readonly defaultQueue?: string;
  /** The `origin` header of published tasks. @default `gen<pid>@<hostname>`, as Python's clients */
  readonly origin?: string;
}

export class Celery {
  readonly options: CeleryOptions;
  readonly logger: Logger;
  readonly #brokerUrl: string;
  #transport: Transport | undefined;
  #results: RpcResultBackend | undefined;
  #publisher: TaskPublisher | undefined;
  readonly #workers = new Set<CeleryWorker>();
  #closing: Promise<void> | undefined;

  constructor(options: CeleryOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? consoleLogger();
    this.#brokerUrl = options.broker ?? DEFAULT_BROKER_URL;
    let scheme: string;
    try {
      scheme = new URL(this.#brokerUrl).protocol;
    } catch (error) {
      throw new CeleryGenError('BAD_BROKER_URL', `broker ${redactUrl(this.#brokerUrl)} is not a URL`, { cause: error });
    }
    if (scheme !== 'amqp:' && scheme !== 'amqps:') {
      throw new CeleryGenError('UNSUPPORTED_BROKER', `broker ${redactUrl(this.#brokerUrl)}: only amqp:// and amqps:// brokers are supported`);
    }
    const backend = options.backend ?? 'rpc://';
    if (!/^rpc:(\/\/)?$/.test(backend)) {
      throw new CeleryGenError(
        'UNSUPPORTED_BACKEND',
        `result backend ${redactUrl(backend)} is not supported; use 'rpc://' (results over AMQP, as Python's rpc backend)`,
      );
    }
  }

  /** The broker connection (created on first use; connects lazily). */
  get transport(): Transport {
    this.#assertOpen();
    this.#transport ??= new Transport({ url: this.#brokerUrl, logger: this.logger });
    return this.#transport;
  }

  /** The rpc:// result backend; its reply queue is this client's `reply_to`. */
  get results(): RpcResultBackend {
    this.#results ??= new RpcResultBackend(this.transport, this.logger);
    return this.#results;
  }

  /** @internal The publisher behind sendTask (tests use its lower-level publish()). */
  get publisher(): TaskPublisher {
    this.#publisher ??= new TaskPublisher({
      transport: this.transport,
      results: this.results,
      logger: this.logger,
      defaultQueue: this.options.defaultQueue ?? DEFAULT_QUEUE,
      ...(this.options.origin === undefined ? {} : { origin: this.options.origin }),
    });
    return this.#publisher;
  }

  /** Publishes a task by name (the untyped escape hatch). Resolves once the broker confirmed the message. */
  sendTask(
    name: string,
    args: readonly unknown[] = [],
    kwargs: Readonly<Record<string, unknown>> = {},
    options: ApplyOptions = {},
    spec?: TaskSpec,
  ): Promise<RpcAsyncResult<unknown>> {
    try {
      return this.publisher.sendTask(name, args, kwargs, options, spec);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  createWorker(tasks: readonly TaskImplementation[], options: WorkerOptions = {}): Worker {
    const queues = options.queues && options.queues.length > 0 ? options.queues : [this.options.defaultQueue ?? DEFAULT_QUEUE];
    const worker = new CeleryWorker(tasks, { ...options, queues }, {
      transport: this.transport,
      logger: this.logger,
      onSignalStop: () => this.close(),
    });
    this.#workers.add(worker);
    return worker;
  }

  /** Stops this app's workers (gracefully), the result consumer, then the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#workers].map((worker) => worker.stop()));
    await this.#results?.close();
    await this.#transport?.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new CeleryGenError('CLOSED', 'this Celery app was closed');
  }
}
