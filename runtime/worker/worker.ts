/**
 * The worker: consumes task messages with manual acks, runs up to `concurrency` handlers
 * at once, answers on the rpc:// reply queue in the shape Python's `AsyncResult.get()`
 * reads, and acks only after the answer was published (at-least-once; a task spec with
 * `acks_late: false` is acked before it runs, as Python does by default).
 *
 * Bad input never stops the worker: an unknown task, a message that does not decode or
 * arguments that do not fit are logged, answered with FAILURE where the id and reply
 * queue are known, and rejected without requeue (dead-lettered where a DLX exists).
 *
 * Each delivery stays paired with the channel it arrived on: delivery tags belong to one
 * channel, and acking on another (or a dead one) makes the broker close the channel.
 *
 * The broker is reached through a WorkerSource (worker/source.ts), which the app builds:
 * amqp/worker-source.ts, or redis/worker-source.ts
 * when the app's broker is redis://. With a key-value result backend (Redis) states
 * go to a ResultStore instead of the rpc reply.
 */
import { hostname as osHostname } from 'node:os';
import type { TaskContext, TaskImplementation, Worker, WorkerOptions } from '../app/api.js';
import { bindArguments } from '../protocol/arguments.js';
import { chainFailureTargets, errbackContinuations, signatureRoute, successContinuations, type Continuation, type SignatureRouter } from '../client/canvas.js';
import type { TaskRouter, Route } from '../client/routes.js';
import type { Celery } from '../app/celery.js';
import type { ControlNode } from '../observability/control.js';
import type { Mailbox } from '../observability/control-mailbox.js';
import type { EventSink } from '../observability/events.js';
import { parseRate } from './rate-limit.js';
import { raiseRetry, Retry, type RetryOptions, retryMessage } from './retry.js';
import { effectiveLimits, withTimeLimits } from './time-limit.js';
import { WorkerBreadth } from './breadth.js';
import { runWithContext } from './context.js';
import { ProtocolError } from '../protocol/errors.js';
import { messageOf, type Logger } from '../observability/logger.js';
import {
  type DecodeOptions,
  decodeTaskMessage,
  type EncodedResult,
  encodeResult,
  failureMeta,
  notRegisteredMeta,
  retryMeta,
  revokedMeta,
  successMeta,
  type ResultMeta,
  type TaskMessageInput,
  type TaskRequest,
} from '../protocol/message.js';
import type { ResultStore, WorkerDelivery, WorkerSource } from './source.js';
import { etaDelayMs } from '../protocol/eta.js';

interface Delivery {
  readonly source: WorkerDelivery;
  settled: boolean;
  /** Decoded on arrival (ETA, expiry and revokes are decided before a slot is taken). */
  request?: TaskRequest;
}

export interface WorkerDeps {
  readonly logger: Logger;
  /** Where messages come from: the broker's WorkerSource (amqp/worker-source.ts, redis/worker-source.ts). */
  readonly source: WorkerSource;
  /** What remote control's `stats` reports as the broker. */
  readonly brokerInfo: Readonly<{ transport: string; hostname: string }>;
  /** Set when the app has a key-value result backend: states are stored there instead of replied. */
  readonly resultStore?: ResultStore;
  /** Called after a signal-initiated stop, before the process exits (the app's close). */
  readonly onSignalStop?: () => Promise<void>;
  /** Publishes task messages the worker sends itself (retries, chain steps, callbacks, errbacks): the app's publisher. */
  readonly publish?: (input: TaskMessageInput, route: Route) => Promise<void>;
  /** The `origin` of those messages. */
  readonly origin?: string;
  /** Where signatures without a queue go (the app's default queue). */
  readonly defaultQueue?: string;
  /** The app's compiled `taskRoutes`, for the signatures the worker publishes. */
  readonly router?: TaskRouter;
  /** Opens the remote-control mailbox (celery.pidbox); absent: no remote control. */
  readonly mailbox?: (node: ControlNode) => Promise<Mailbox>;
  /** Where events go (celeryev); absent: no events, no heartbeat. */
  readonly eventSink?: EventSink;
  /** The app, handed to handlers in their context. */
  readonly app?: Celery;
  /** Results in kombu 5.3+ typed JSON envelopes (the app's `typedJson`). @default false */
  readonly typedJson?: boolean;
}

/** How Python's worker names a task in its log lines: `name[id]`. */
function taskLabel(request: TaskRequest): string {
  return `${request.task}[${request.id}]`;
}

/** An error Python can rebuild by name: `exc_type` is `name`, `exc_message` `[message]`. */
class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export class CeleryWorker implements Worker {
  readonly hostname: string;
  readonly #deps: WorkerDeps;
  readonly #tasks = new Map<string, TaskImplementation>();
  readonly #queues: readonly string[];
  readonly #concurrency: number;
  readonly #shutdownTimeout: number;
  readonly #decodeOptions: DecodeOptions;
  readonly #handleSignals: boolean;
  readonly #source: WorkerSource;
  /** Resolves stop()'s wait once no handler runs. */
  #idle: (() => void) | undefined;
  readonly #backlog: Delivery[] = [];
  #running = 0;
  readonly #breadth: WorkerBreadth<Delivery>;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(tasks: readonly TaskImplementation[], options: WorkerOptions, deps: WorkerDeps) {
    for (const task of tasks) {
      if (this.#tasks.has(task.spec.name)) throw new Error(`task ${task.spec.name} is implemented twice`);
      this.#tasks.set(task.spec.name, task);
    }
    this.#deps = deps;
    this.#queues = options.queues && options.queues.length > 0 ? [...options.queues] : ['celery'];
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.#concurrency = concurrency;
    this.#shutdownTimeout = options.shutdownTimeout ?? 30_000;
    this.#decodeOptions = options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes };
    this.#handleSignals = options.handleSignals ?? true;
    this.hostname = options.hostname ?? `celery@${osHostname()}`;
    this.#source = deps.source;
    this.#breadth = new WorkerBreadth<Delivery>({
      hostname: this.hostname,
      logger: deps.logger,
      queues: this.#queues,
      concurrency,
      registered: () => this.registered,
      brokerInfo: deps.brokerInfo,
      mailbox: options.remoteControl === false ? undefined : deps.mailbox,
      eventSink: options.heartbeat === false && options.events !== true ? undefined : deps.eventSink,
      taskEvents: options.events ?? false,
      // Held ETA messages widen the window on every source that can (AMQP basic.qos, the Redis consumer's bound).
      setPrefetch: this.#source.setPrefetch ? (count) => this.#source.setPrefetch!(count) : undefined,
      rateOf: (task) => parseRate(this.#tasks.get(task)?.spec.options.rate_limit),
    });
    this.#breadth.onDue = (delivery) => this.#dispatch(delivery);
    this.#breadth.onRevokedHeld = (delivery, request) => void this.#revoke(delivery, request, 'revoked');
  }

  /** Task names this worker runs. */
  get registered(): string[] {
    return [...this.#tasks.keys()];
  }

  start(): Promise<void> {
    if (this.#stopping) return Promise.reject(new Error('worker was stopped; create a new one'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { logger } = this.#deps;
    await this.#source.start(this.#queues, this.#concurrency, (delivery) => this.#onMessage(delivery));
    await this.#breadth.start();
    if (this.#handleSignals) installSignals(this);
    logger.info(`worker ${this.hostname} ready.`, { queues: this.#queues, concurrency: this.#concurrency, tasks: this.registered });
  }

  #onMessage(source: WorkerDelivery): void {
    // Arrived while stopping: left unacked, so closing the source hands it back to the queue.
    if (this.#stopping) return;
    const delivery: Delivery = { source, settled: false };
    if (this.#admit(delivery)) this.#dispatch(delivery);
  }

  /** Runs now or queues behind the running handlers. */
  #dispatch(delivery: Delivery): void {
    if (this.#stopping) return; // a held ETA message due during stop stays unacked
    if (this.#running < this.#concurrency) this.#run(delivery);
    else this.#backlog.push(delivery);
  }

  /**
   * Decodes on arrival and decides what Python's strategy decides: revoked or expired →
   * REVOKED, future eta → held (not taking a slot), else run. Undecodable messages and
   * unknown tasks go on to #process, which answers them.
   */
  #admit(delivery: Delivery): boolean {
    let request: TaskRequest;
    try {
      request = decodeTaskMessage(delivery.source.message, this.#decodeOptions);
    } catch {
      return true;
    }
    delivery.request = request;
    if (!this.#tasks.has(request.task)) return true;
    // A quorum queue's consumer window cannot grow for held messages: a whole second or more
    // away, the message goes back through native delayed delivery instead (docs/clusters.md).
    if (this.#source.defer && request.eta !== null && this.#breadth.check(request) === 'run') {
      const delayMs = etaDelayMs(request.eta);
      const deferring = delayMs >= 1000 ? this.#source.defer(delivery.source, delayMs) : undefined;
      if (deferring) {
        void this.#deferred(deferring, delivery, request, delayMs);
        return false;
      }
    }
    return this.#decide(delivery, request);
  }

  /** Waits for a deferral; if it failed, the delivery is held as usual. */
  async #deferred(deferring: Promise<void>, delivery: Delivery, request: TaskRequest, delayMs: number): Promise<void> {
    try {
      await deferring;
      delivery.settled = true;
      this.#deps.logger.debug(`Task ${request.task}[${request.id}] deferred through native delayed delivery`, { delayMs });
      return;
    } catch (error) {
      this.#deps.logger.warn(`cannot defer ${request.task}[${request.id}] through native delayed delivery; holding it instead: ${messageOf(error)}`);
    }
    if (this.#stopping) return;
    if (this.#decide(delivery, request)) this.#dispatch(delivery);
  }

  #decide(delivery: Delivery, request: TaskRequest): boolean {
    const verdict = this.#breadth.admit(delivery, request);
    if (verdict === 'run') return true;
    if (verdict !== 'held') void this.#revoke(delivery, request, verdict);
    return false;
  }

  /** REVOKED (reason revoked or expired) as Python's `Request.revoked()` reports it, then ack. */
  async #revoke(delivery: Delivery, request: TaskRequest, reason: 'revoked' | 'expired'): Promise<void> {
    this.#deps.logger.info(`Discarding ${reason} task ${request.task}[${request.id}]`);
    try {
      await this.#reply(delivery, request.replyTo, request.correlationId ?? request.id, revokedMeta(request.id, reason), request);
      this.#breadth.revokedReported(request, reason);
    } finally {
      this.#settle(delivery, 'ack');
    }
  }

  #run(delivery: Delivery): void {
    this.#running++;
    void this.#runOne(delivery);
  }

  // One async frame per message instead of a .catch().finally() chain: fewer promises and closures on the hot path.
  async #runOne(delivery: Delivery): Promise<void> {
    try {
      await this.#process(delivery);
    } catch (error) {
      // #process handles every outcome itself; reaching here is a bug, and the message must not vanish.
      this.#deps.logger.error('internal error while processing a message; rejecting it', { error: messageOf(error) });
      this.#settle(delivery, 'reject');
    } finally {
      this.#running--;
      const next = this.#stopping ? undefined : this.#backlog.shift();
      if (next) this.#run(next);
      else if (this.#running === 0) this.#idle?.();
    }
  }

  async #process(delivery: Delivery): Promise<void> {
    const { message } = delivery.source;
    const replyTo = typeof message.replyTo === 'string' ? message.replyTo : '';
    let request: TaskRequest;
    try {
      request = delivery.request ?? decodeTaskMessage(message, this.#decodeOptions);
    } catch (error) {
      await this.#malformed(delivery, error, replyTo);
      return;
    }

    const implementation = this.#tasks.get(request.task);
    if (!implementation) {
      this.#deps.logger.error(`Received unregistered task of type '${request.task}'; rejected and answered NotRegistered`, {
        taskId: request.id,
        queue: message.deliveryInfo.routingKey,
      });
      await this.#reply(delivery, request.replyTo, request.correlationId ?? request.id, notRegisteredMeta(request.id, request.task), request);
      this.#settle(delivery, 'reject');
      return;
    }

    // Revoked or expired while it waited in the backlog (Python checks again before running).
    const verdict = this.#breadth.check(request);
    if (verdict !== 'run') {
      await this.#revoke(delivery, request, verdict);
      return;
    }
    const acksLate = implementation.spec.options.acks_late !== false;
    if (!acksLate) this.#settle(delivery, 'ack');
    const started = performance.now();
    const { logger } = this.#deps;
    // Per-task lines are info, off by default: ask first, so no string is built for a line nobody writes.
    const taskLines = logger.isLevelEnabled?.('info') ?? true;
    if (taskLines) logger.info(`Task ${taskLabel(request)} received`);
    this.#breadth.started(request, !acksLate);
    let meta: ResultMeta;
    let value: unknown;
    try {
      const args = bindArguments(implementation.spec, request.args, request.kwargs);
      const context = this.#context(request, delivery, implementation);
      const limits = effectiveLimits(request.timeLimit, implementation.spec.options);
      value =
        limits.hard === null && limits.soft === null
          ? await runWithContext(context, runTask, implementation, context, args)
          : await withTimeLimits(async () => runWithContext(context, runTask, implementation, context, args), limits, request.id);
      meta = successMeta(request.id, value);
      if (taskLines) logger.info(`Task ${taskLabel(request)} succeeded in ${((performance.now() - started) / 1000).toFixed(3)}s`);
      await this.#continue(successContinuations(request, value, this.#defaultQueue, this.#routeOf), request);
    } catch (error) {
      if (error instanceof Retry) meta = await this.#retry(request, error);
      else {
        const named = withClassName(error);
        meta = failureMeta(request.id, named);
        logger.error(`Task ${taskLabel(request)} raised ${errorName(named)}: ${messageOf(error)}`);
        await this.#failChain(delivery, request, meta);
      }
    }
    this.#breadth.finished(request, meta, (performance.now() - started) / 1000, value);
    if (meta.status !== 'SUCCESS' || !request.ignoreResult) {
      await this.#reply(delivery, request.replyTo, request.correlationId ?? request.id, meta, request);
    }
    if (acksLate) this.#settle(delivery, 'ack');
  }

  async #malformed(delivery: Delivery, error: unknown, replyTo: string): Promise<void> {
    const { message } = delivery.source;
    const taskId = error instanceof ProtocolError ? error.taskId : undefined;
    const code = error instanceof ProtocolError ? error.code : 'UNKNOWN';
    this.#deps.logger.error(`Rejected a malformed message: ${messageOf(error)}`, {
      code,
      taskId,
      taskName: error instanceof ProtocolError ? error.taskName : undefined,
      queue: message.deliveryInfo.routingKey,
      contentType: message.contentType,
      bodyBytes: message.body.length,
    });
    if (taskId && (replyTo || this.#deps.resultStore)) {
      const invalid = new NamedError('InvalidTaskError', messageOf(error));
      const meta = failureMeta(taskId, invalid);
      await this.#reply(delivery, replyTo, String(message.correlationId ?? taskId), withModule(meta, 'celery.exceptions'));
    }
    this.#settle(delivery, 'reject');
  }

  get #defaultQueue(): string {
    return this.#deps.defaultQueue ?? 'celery';
  }

  /** Routes a signature this worker publishes as sendTask would, with the spec of the task when this worker serves it. */
  readonly #routeOf: SignatureRouter = (sig) => signatureRoute(sig, this.#defaultQueue, this.#deps.router, this.#tasks.get(sig.task)?.spec);

  /** Publishes chain steps, callbacks or errbacks (Python 5.2 does it before storing the result). */
  async #continue(continuations: readonly Continuation[], request: TaskRequest): Promise<void> {
    if (continuations.length === 0) return;
    const { publish } = this.#deps;
    if (!publish) {
      this.#deps.logger.error(`Task ${taskLabel(request)}: this worker cannot publish, so its chain/callbacks are dropped`);
      return;
    }
    const origin = this.#deps.origin ?? this.hostname;
    for (const { input, route } of continuations) {
      try {
        await publish({ ...input, origin }, route);
      } catch (error) {
        this.#deps.logger.error(`Task ${taskLabel(request)}: cannot publish ${input.task}[${input.id}]: ${messageOf(error)}`);
      }
    }
  }

  /** `self.retry()`: republish with retries+1 and report RETRY; if that fails, FAILURE with the retry's error. */
  async #retry(request: TaskRequest, retry: Retry): Promise<ResultMeta> {
    const exc = retry.exc ?? retry;
    const { publish } = this.#deps;
    if (!publish) return failureMeta(request.id, withClassName(exc));
    const { input, route } = retryMessage(request, retry, this.#deps.origin ?? this.hostname);
    try {
      await publish(input, route);
    } catch (error) {
      this.#deps.logger.error(`Task ${taskLabel(request)}: cannot republish the retry: ${messageOf(error)}`);
      return failureMeta(request.id, withClassName(exc));
    }
    const { logger } = this.#deps;
    if (logger.isLevelEnabled?.('info') ?? true) logger.info(`Task ${taskLabel(request)} retry: Retry in ${retry.countdownSeconds}s: ${messageOf(exc)}`);
    return retryMeta(request.id, withClassName(exc), retry.countdownSeconds);
  }

  /** After a FAILURE: the remaining chain steps fail the same way (so chain.get() raises), then errbacks run. */
  async #failChain(delivery: Delivery, request: TaskRequest, meta: ResultMeta): Promise<void> {
    for (const target of chainFailureTargets(request)) {
      await this.#reply(delivery, target.replyTo, target.taskId, { ...meta, task_id: target.taskId });
    }
    await this.#continue(errbackContinuations(request, this.#defaultQueue, this.#routeOf), request);
  }

  #context(request: TaskRequest, delivery: Delivery, implementation: TaskImplementation): TaskContext {
    const fields = delivery.source.message.deliveryInfo;
    return {
      retry: (options?: RetryOptions) => raiseRetry(request, implementation.spec.options, options),
      app: this.#deps.app,
      id: request.id,
      name: request.task,
      retries: request.retries,
      rootId: request.rootId,
      parentId: request.parentId,
      groupId: request.group,
      eta: request.eta,
      expires: request.expires,
      hostname: this.hostname,
      deliveryInfo: { exchange: fields.exchange, routingKey: fields.routingKey, redelivered: fields.redelivered, redeliveryCount: redeliveryCount(delivery.source.message) },
      headers: request.headers,
    };
  }

  /**
   * Publishes a result on the delivery's own channel, so it reaches the broker before the ack
   * that follows; with a key-value result backend, stores it there (awaited before the ack).
   */
  async #reply(delivery: Delivery, replyTo: string | null | undefined, correlationId: string, meta: ResultMeta, request?: TaskRequest): Promise<void> {
    const store = this.#deps.resultStore;
    if (store) {
      try {
        await store.store(meta.task_id, meta, request);
      } catch (error) {
        this.#deps.logger.error(`cannot store the result of ${meta.task_id}: ${messageOf(error)}`);
      }
      return;
    }
    if (!replyTo) return;
    if (!delivery.source.live) {
      this.#deps.logger.warn('not answering on a closed channel; the message will be redelivered', { taskId: meta.task_id });
      return;
    }
    let payload: EncodedResult;
    try {
      payload = encodeResult(meta, { typed: this.#deps.typedJson ?? false });
    } catch (error) {
      // A value JSON cannot carry (BigInt, a cycle): the caller still gets an answer.
      this.#deps.logger.error(`cannot encode the result of ${meta.task_id}: ${messageOf(error)}`);
      payload = encodeResult(failureMeta(meta.task_id, new NamedError('EncodeError', messageOf(error))));
    }
    try {
      await delivery.source.reply(replyTo, correlationId, payload);
    } catch (error) {
      this.#deps.logger.error(`cannot publish the result of ${meta.task_id}: ${messageOf(error)}`);
    }
  }

  #settle(delivery: Delivery, how: 'ack' | 'reject'): void {
    if (delivery.settled) return;
    delivery.settled = true;
    if (!delivery.source.live) {
      this.#deps.logger.warn(`not ${how === 'ack' ? 'acking' : 'rejecting'} on a closed channel; the broker redelivers the message`);
      return;
    }
    try {
      if (how === 'ack') delivery.source.ack();
      else delivery.source.reject(false);
    } catch (error) {
      this.#deps.logger.error(`${how} failed: ${messageOf(error)}`);
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { logger } = this.#deps;
    if (this.#starting) await this.#starting.catch(() => undefined); // a failed start has nothing to stop
    await this.#source.cancel().catch((error: unknown) => logger.warn(`cancel failed: ${messageOf(error)}`));
    // Prefetched but unstarted messages stay unacked: closing the channel hands them back.
    const returned = this.#backlog.splice(0).length;
    if (this.#running > 0) {
      logger.info(`waiting for ${this.#running} running task(s) to finish`, { timeoutMs: this.#shutdownTimeout });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        this.#idle = () => resolve(false);
        timer = setTimeout(() => resolve(true), this.#shutdownTimeout);
      });
      clearTimeout(timer);
      this.#idle = undefined;
      if (timedOut) logger.warn(`${this.#running} task(s) still running after ${this.#shutdownTimeout} ms; their messages will be redelivered`);
    }
    // Held ETA messages stay unacked too: closing the source hands them back.
    const held = await this.#breadth.stop();
    await this.#source.close().catch((error: unknown) => logger.debug(`closing the worker's broker source failed: ${messageOf(error)}`));
    uninstallSignals(this);
    logger.info(`worker ${this.hostname} stopped`, { returnedToQueue: returned + held.length });
  }

  /** @internal Runs the app's close after a signal-initiated stop. */
  afterSignalStop(): Promise<void> {
    return this.#deps.onSignalStop?.() ?? Promise.resolve();
  }

  /** @internal */
  get logger(): Logger {
    return this.#deps.logger;
  }
}

/**
 * `class MyError extends Error {}` leaves `name` as 'Error'; Python should still see
 * `MyError`. Returns a view of the error whose `name` is its class name, without
 * touching the handler's object.
 */
function withClassName(error: unknown): unknown {
  if (!(error instanceof Error) || error.name !== 'Error') return error;
  const className = (error.constructor as { name?: unknown } | undefined)?.name;
  if (typeof className !== 'string' || className === 'Error' || className === '') return error;
  return Object.create(error, { name: { value: className, enumerable: false } }) as Error;
}

/** Quorum queues count deliveries in `x-delivery-count` (absent on the first); elsewhere only the redelivered flag is known. */
function redeliveryCount(message: WorkerDelivery['message']): number {
  const count = (message.headers as Record<string, unknown> | undefined)?.['x-delivery-count'];
  if (typeof count === 'number' || typeof count === 'bigint') return Number(count);
  return message.deliveryInfo.redelivered ? 1 : 0;
}

function runTask(implementation: TaskImplementation, context: TaskContext, args: readonly unknown[]): unknown {
  return implementation.run(context, args);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function withModule(meta: ResultMeta, module: string): ResultMeta {
  const result = meta.result;
  if (result && typeof result === 'object' && !Array.isArray(result)) return { ...meta, result: { ...result, exc_module: module } };
  return meta;
}

// One pair of process listeners for every worker that handles signals: the first signal
// stops them all gracefully and exits 0; a second one exits at once.
const signalled = new Set<CeleryWorker>();
let signalCount = 0;

function onSignal(signal: NodeJS.Signals): void {
  signalCount++;
  const workers = [...signalled];
  const logger = workers[0]?.logger;
  if (signalCount > 1) {
    logger?.warn(`${signal} received again: exiting without waiting for running tasks`);
    process.exit(1);
  }
  // At warn, so the default level shows it: Python's worker prints its "Warm shutdown" line
  // whatever the log level, and an operator must see why the worker is going away.
  logger?.warn(`${signal} received: finishing running tasks, then exiting (send it again to force)`);
  void Promise.allSettled(workers.map((w) => w.stop()))
    .then(() => Promise.allSettled(workers.map((w) => w.afterSignalStop())))
    .then(() => process.exit(0));
}

function installSignals(worker: CeleryWorker): void {
  if (signalled.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  signalled.add(worker);
}

function uninstallSignals(worker: CeleryWorker): void {
  if (signalCount > 0) return; // keep listening: a second signal must still force the exit
  if (!signalled.delete(worker)) return;
  if (signalled.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
