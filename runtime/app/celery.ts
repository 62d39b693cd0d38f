/**
 * The application object: configuration, the broker and result backend chosen from the URLs
 * (app/registry.ts) and reached only through their adapters (app/broker.ts), and the
 * factories for clients and workers. The broker connection opens lazily, on the first
 * publish or worker start.
 */
import type { ApplyOptions, TaskImplementation, Worker, WorkerOptions } from './api.js';
import type { AdapterContext, BrokerAdapter, ChordTask, ClosableResultTracker, ResultBackendAdapter, SignatureJson } from './broker.js';
import { chordUnsupported } from './broker.js';
import {
  type AmqpTopology,
  amqpResultsOf,
  amqpTopologyOf,
  amqpTransportOf,
  chooseBrokerAndBackend,
  DEFAULT_BROKER_URL,
  type ReconnectOptions,
  type RedisBroker,
  type RedisResultBackend,
  redisBackendOf,
  redisBrokerOf,
  type RpcResultBackend,
  type TlsOptions,
  type Transport,
} from './registry.js';
import type { RpcAsyncResult } from '../client/async-result.js';
import { type ResultTracker, TaskPublisher } from '../client/publisher.js';
import { DEFAULT_QUEUE, type Route } from '../client/routes.js';
import { EventDispatcher, type EventSink, taskSentFields } from '../observability/events.js';
import type { OutgoingMessage } from '../protocol/message.js';
import { CeleryGenError } from '../protocol/errors.js';
import { ExceptionRegistry, type PythonExceptionClass } from '../client/exception-registry.js';
import { consoleLogger, type Logger, loggerAtLevel, type LogLevelName, resolveLogLevel } from '../observability/logger.js';
import type { TaskSpec } from '../protocol/spec.js';
import { CeleryWorker } from '../worker/worker.js';
import { parseBrokerUrls } from '../protocol/broker-urls.js';
import type { QueueRoute, QueueType } from '../protocol/delayed-delivery.js';
import { queueRouteOf, type QueueTypeSettings } from '../protocol/queue-types.js';
import { type TaskRouter, type TaskRoutes, compileRoutes } from '../client/routes.js';

export interface CeleryOptions {
  /**
   * `amqp://`, `amqps://`, `redis://` or `rediss://` URL. For AMQP also a failover list, as
   * Celery's `broker_url`: `'amqp://h1//;amqp://h2//'` or an array; the runtime moves to the
   * next URL, round-robin, on a failed connect and on every lost connection (docs/clusters.md).
   * @default 'amqp://guest:guest@127.0.0.1:5672//'
   */
  readonly broker?: string | readonly string[];
  /**
   * Python's `task_default_queue_type` (Celery 5.5+): how the default queue is declared.
   * 'quorum' declares `x-queue-type: quorum`, and workers then use per-consumer prefetch and
   * native delayed delivery. Declare it alike on every peer (RabbitMQ answers 406 otherwise).
   * @default 'classic'
   */
  readonly defaultQueueType?: QueueType;
  /** Python's `task_create_missing_queue_type` (5.6): the type of every other queue this app declares. @default 'classic' */
  readonly createMissingQueueType?: QueueType;
  /**
   * Python's `task_default_exchange_type`. 'direct' publishes to RabbitMQ's default exchange
   * with the queue name as routing key; 'topic' binds each queue to a topic exchange of its
   * own name and publishes there, which native delayed delivery needs. @default 'direct'
   */
  readonly defaultExchangeType?: 'direct' | 'topic';
  /** Result backend URL: `rpc://` or `redis://` / `rediss://`. @default 'rpc://' */
  readonly backend?: string;
  /** Python's `broker_transport_options` for a Redis broker. */
  readonly brokerTransportOptions?: {
    /** Seconds before an unacked message is handed out again; set it alike on every peer. @default 3600 */
    readonly visibilityTimeout?: number;
    /** Milliseconds between checks for such messages while consuming. @default 10000 */
    readonly restoreInterval?: number;
    /** Prefix of this app's Redis connection names in `CLIENT LIST` (broker and Redis backend). @default 'celery-gen' */
    readonly connectionName?: string;
  };
  /** Python's `result_expires` for a Redis backend, seconds; null keeps results forever. @default 86400 */
  readonly resultExpires?: number | null;
  /** Where the runtime logs. @default consoleLogger() (stderr, at `logLevel`) */
  readonly logger?: Logger;
  /**
   * The lowest level logged, any case (Python's `-l`). Per-task lines (received, succeeded,
   * retried) are info; failures are error. A `logger` you pass keeps its own level unless
   * this is set. @default `$CELERY_GEN_LOG_LEVEL`, else 'warn' (as Python's worker)
   */
  readonly logLevel?: LogLevelName;
  /**
   * The queue tasks go to when neither the call nor the task's `queue=` option names one,
   * and the queue workers consume by default (Python's `task_default_queue`). @default 'celery'
   */
  readonly defaultQueue?: string;
  /**
   * Python's `task_routes`, with Celery's rules (runtime/client/routes.ts): routes that exist
   * only at run time. A task's decorator options win over them, and so does a route the
   * generator read from the Python source for that task.
   * @example { 'proj.billing.*': 'billing', 'proj.mail.send': { queue: 'mail', routing_key: 'mail.send' } }
   */
  readonly taskRoutes?: TaskRoutes;
  /** The `origin` header of published tasks. @default `gen<pid>@<hostname>`, as Python's clients */
  readonly origin?: string;
  /**
   * Python's `task_serializer`: how tasks are published unless the call or the task's
   * `serializer=` says otherwise. Python peers must accept it (`accept_content`). @default 'json'
   */
  readonly taskSerializer?: 'json' | 'msgpack';
  /**
   * Write kombu 5.3+'s typed JSON envelopes (`{"__type__", "__value__"}`): a `Date` goes out as a
   * `datetime`, a `Uint8Array` as `bytes`/`base64`, in task arguments and in results. Only for
   * peers that all run Celery 5.3 or newer: a 5.2 peer would see the envelopes as plain dicts.
   * Off, dates go out as ISO strings and bytes are refused, which every version reads. @default false
   */
  readonly typedJson?: boolean;
  /** Send a `task-sent` event for every published task (Python's `task_send_sent_event`). @default false */
  readonly sendTaskSentEvent?: boolean;
  /**
   * Queue arguments by queue name, used wherever this app declares the queue (client and
   * worker), as Python's `task_queues = [Queue(name, queue_arguments=…)]`. Declare them alike
   * on every peer: RabbitMQ refuses a redeclaration with other arguments (406).
   * @example { tasks_prio: { 'x-max-priority': 10 } }
   */
  readonly queueArguments?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * Milliseconds a publish (sendTask, delay, applyAsync) may wait for the broker, reconnects
   * included, before it rejects with PUBLISH_TIMEOUT. A publish never resolves before the
   * broker confirmed the message, and never drops it silently. @default 30000
   */
  readonly publishTimeout?: number;
  /** Backoff of the AMQP reconnect loop after a lost connection. @default { initialDelay: 250, maxDelay: 10000, factor: 2 } */
  readonly reconnect?: ReconnectOptions;
  /** TLS for an `amqps://` broker: CA, client certificate and key (PEM), as Node's `tls.connect` takes them. */
  readonly tls?: TlsOptions;
  /** The AMQP connection's name in RabbitMQ's management UI. @default `celery-gen <pid>` */
  readonly connectionName?: string;
}

export class Celery {
  readonly options: CeleryOptions;
  readonly logger: Logger;
  /** @internal The classes FAILUREs become in `get()`; fill it with {@link registerExceptions}. */
  readonly exceptions = new ExceptionRegistry();
  readonly #queueRoutes = new Map<string, QueueRoute>();
  readonly #broker: BrokerAdapter;
  readonly #backend: ResultBackendAdapter;
  #publisher: TaskPublisher | undefined;
  readonly #workers = new Set<CeleryWorker>();
  #closing: Promise<void> | undefined;
  #sentEvents: EventDispatcher | undefined;

  constructor(options: CeleryOptions = {}) {
    this.options = options;
    this.logger = this.#loggerAt(options.logLevel);
    const brokerUrls = parseBrokerUrls(options.broker ?? DEFAULT_BROKER_URL);
    const backendUrl = options.backend ?? 'rpc://';
    const chosen = chooseBrokerAndBackend(brokerUrls, backendUrl);
    const context = (urls: readonly string[]): AdapterContext => ({
      urls,
      options,
      logger: this.logger,
      exceptions: this.exceptions,
      queueSettings: this.#queueSettings,
      queueRoute: (queue) => this.queueRoute(queue),
    });
    // Redis adapters parse their URL here, so a bad one fails now rather than at the first publish.
    this.#broker = chosen.broker(context(brokerUrls));
    this.#backend = chosen.backend(context([backendUrl]), this.#broker);
  }

  /** The app's logger at `level` (the app's own level when undefined). */
  #loggerAt(level: LogLevelName | undefined): Logger {
    const given = this.options.logger;
    if (!given) return consoleLogger(level);
    return level === undefined ? given : loggerAtLevel(given, resolveLogLevel(level));
  }

  /** @internal The Redis broker (redis:// broker URL only). */
  get redisBroker(): RedisBroker {
    this.#assertOpen();
    return redisBrokerOf(this.#broker);
  }

  /** @internal The Redis result backend (redis:// backend URL only). */
  get redisBackend(): RedisResultBackend {
    this.#assertOpen();
    return redisBackendOf(this.#backend);
  }

  /** Where published tasks' results are awaited: rpc through the broker, or a key-value backend. */
  #resultTracker(): ClosableResultTracker {
    return this.#backend.tracker();
  }

  /** The AMQP broker connection (created on first use; connects lazily). */
  get transport(): Transport {
    this.#assertOpen();
    return amqpTransportOf(this.#broker);
  }

  /** @internal Exchanges, bindings and native delayed delivery on the AMQP broker. */
  get topology(): AmqpTopology {
    return amqpTopologyOf(this.#broker);
  }

  get #queueSettings(): QueueTypeSettings {
    const o = this.options;
    return {
      defaultQueue: o.defaultQueue ?? DEFAULT_QUEUE,
      defaultQueueType: o.defaultQueueType,
      createMissingQueueType: o.createMissingQueueType,
      defaultExchangeType: o.defaultExchangeType,
      queueArguments: o.queueArguments,
    };
  }

  /** How `queue` is typed, bound and published to under this app's settings (asked on every publish: memoized). */
  queueRoute(queue: string): QueueRoute {
    let route = this.#queueRoutes.get(queue);
    if (!route) this.#queueRoutes.set(queue, (route = queueRouteOf(queue, this.#queueSettings)));
    return route;
  }

  /** The rpc:// result backend over AMQP; its reply queue is this client's `reply_to`. */
  get results(): RpcResultBackend {
    return amqpResultsOf(this.#broker);
  }

  #compiledRoutes: TaskRouter | undefined;

  /** The app's `taskRoutes`, compiled once for every publisher of this app (client, canvas, worker). */
  #router(): TaskRouter | undefined {
    if (this.options.taskRoutes === undefined) return undefined;
    return (this.#compiledRoutes ??= compileRoutes(this.options.taskRoutes));
  }

  /** @internal The compiled `taskRoutes`, for what this app publishes besides sendTask (canvas, worker continuations). */
  taskRouter(): TaskRouter | undefined {
    return this.#router();
  }

  /** @internal The publisher behind sendTask (tests use its lower-level publish()). */
  get publisher(): TaskPublisher {
    if (this.#publisher) return this.#publisher;
    const results = this.#resultTracker();
    this.#publisher = new TaskPublisher({
      results,
      messagePublisher: this.#broker.messagePublisher(results),
      logger: this.logger,
      defaultQueue: this.options.defaultQueue ?? DEFAULT_QUEUE,
      ...(this.#router() === undefined ? {} : { router: this.#router()! }),
      ...(this.options.origin === undefined ? {} : { origin: this.options.origin }),
      ...(this.options.taskSerializer !== undefined ? { serializer: this.options.taskSerializer } : {}),
      ...(this.options.typedJson ? { typedJson: true } : {}),
      ...(this.options.sendTaskSentEvent ? { onPublished: (message: OutgoingMessage, route: Route) => this.#taskSent(message, route) } : {}),
    });
    return this.#publisher;
  }

  #eventSink(): EventSink {
    return this.#broker.eventSink();
  }

  /** The client's `task-sent` events (only when `sendTaskSentEvent`). */
  #taskSent(message: OutgoingMessage, route: Route): void {
    this.#sentEvents ??= new EventDispatcher({ sink: this.#eventSink(), hostname: this.publisher.origin, logger: this.logger, taskEvents: true });
    const h = message.headers;
    const text = (key: string): string | null => (typeof h[key] === 'string' ? (h[key] as string) : null);
    this.#sentEvents.task(
      'task-sent',
      taskSentFields(
        {
          id: String(h['id']),
          task: String(h['task']),
          argsrepr: text('argsrepr') ?? '',
          kwargsrepr: text('kwargsrepr') ?? '',
          rootId: text('root_id'),
          parentId: text('parent_id'),
          retries: typeof h['retries'] === 'number' ? h['retries'] : 0,
          eta: text('eta'),
          expires: text('expires'),
        },
        route,
      ),
    );
  }

  /**
   * Makes `get()` reject with these classes when a task fails with their Python identity
   * (`exc_module` + `exc_type`). Generated modules export theirs as `EXCEPTIONS` and their
   * `createClient` registers them; Python builtins (`builtins.KeyError`) need no registration.
   */
  registerExceptions(classes: Iterable<PythonExceptionClass>): void {
    this.exceptions.register(classes);
  }

  /** @internal Where this app's results are awaited (canvas.ts applies chains and groups through it). */
  resultTracker(): ResultTracker {
    return this.#resultTracker();
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
    const logger = options.logLevel === undefined ? this.logger : this.#loggerAt(options.logLevel);
    const resultStore = this.#backend.resultStore(logger, (sig, results) => this.#sendChordCallback(sig, results));
    const worker = new CeleryWorker(tasks, { ...options, queues }, {
      logger: logger,
      source: this.#broker.workerSource(logger),
      brokerInfo: { transport: this.#broker.name, hostname: this.#broker.redactedUrl },
      onSignalStop: () => this.close(),
      app: this,
      publish: (input, route) => this.publisher.publish(input, route),
      origin: this.publisher.origin,
      defaultQueue: this.options.defaultQueue ?? DEFAULT_QUEUE,
      ...(this.#router() === undefined ? {} : { router: this.#router()! }),
      mailbox: (node) => this.#broker.mailbox(node, logger),
      eventSink: this.#eventSink(),
      ...(this.options.typedJson ? { typedJson: true } : {}),
      ...(resultStore ? { resultStore } : {}),
    });
    this.#workers.add(worker);
    return worker;
  }

  /**
   * @internal Publishes `header` as a chord whose callback gets the list of header results
   * (canvas.ts's `chord(...)`); needs a backend that can join one (Redis), as in Python.
   */
  sendChord<R>(header: readonly ChordTask[], callback: ChordTask): Promise<RpcAsyncResult<R> & { readonly groupId: string }> {
    if (!this.#backend.sendChord) return Promise.reject(chordUnsupported());
    return this.#backend.sendChord<R>(this, header, callback);
  }

  /** Python's `callback.delay(resl)` at the end of a chord: header results first, then the signature's own args. */
  async #sendChordCallback(signature: SignatureJson, results: unknown[]): Promise<void> {
    const options = signature.options ?? {};
    const text = (key: string): string | undefined => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
    const priority = typeof options.priority === 'number' ? options.priority : undefined;
    const taskId = text('task_id');
    const queue = text('queue');
    const result = await this.sendTask(signature.task, [results, ...(signature.args ?? [])], { ...(signature.kwargs ?? {}) }, {
      ...(taskId !== undefined ? { taskId } : {}),
      ...(queue !== undefined ? { queue } : {}),
      ...(priority !== undefined ? { priority } : {}),
    });
    // Nobody here waits for the callback's result: stop tracking it.
    this.#resultTracker().forget(result.id);
  }

  /** Stops this app's workers (gracefully), the result consumer, then the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#workers].map((worker) => worker.stop()));
    await this.#sentEvents?.close();
    await this.#backend.close();
    await this.#broker.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new CeleryGenError('CLOSED', 'this Celery app was closed');
  }
}
