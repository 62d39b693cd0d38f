/**
 * The worker's protocol-breadth state, kept out of worker.ts's hot path: revoked ids,
 * held ETA messages, running and reserved tasks (for `inspect`), per-task totals, the
 * event dispatcher with its heartbeat, and the remote-control mailbox. worker.ts calls
 * in at a few points (admit a delivery, task started/finished, start/stop); the rules
 * themselves live in eta.ts, retry.ts, canvas.ts, events.ts, control.ts and time-limit.ts.
 */
import type { ActiveTaskInfo, ControlTarget, ScheduledTaskInfo } from '../observability/control.js';
import { ControlNode, LamportClock, RevokedSet } from '../observability/control.js';
import type { Mailbox } from '../observability/control-mailbox.js';
import { EtaSchedule, etaDelayMs, isExpired } from '../protocol/eta.js';
import {
  EventDispatcher,
  type EventSink,
  taskFailedFields,
  taskReceivedFields,
  taskRevokedFields,
  taskSucceededFields,
  WorkerHeartbeat,
} from '../observability/events.js';
import { messageOf, type Logger } from '../observability/logger.js';
import { TokenBucket } from './rate-limit.js';
import type { ResultMeta, TaskRequest } from '../protocol/message.js';
import { isoMicros } from '../protocol/message.js';

export interface BreadthOptions {
  readonly hostname: string;
  readonly logger: Logger;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly registered: () => readonly string[];
  readonly brokerInfo: Readonly<Record<string, unknown>>;
  /** Opens the remote-control mailbox, or undefined to run without remote control. */
  readonly mailbox?: ((node: ControlNode) => Promise<Mailbox>) | undefined;
  /** Where events go; undefined sends none (no heartbeat either). */
  readonly eventSink?: EventSink | undefined;
  /** Task events (Python's `-E`); the heartbeat is sent whenever there is a sink. */
  readonly taskEvents?: boolean;
  /** A task's `rate_limit` in tasks per second (rate-limit.ts), or null. */
  readonly rateOf?: (task: string) => number | null;
  /** Changes the broker prefetch window (AMQP basic.qos); absent where the source cannot. */
  readonly setPrefetch?: ((count: number) => Promise<void>) | undefined;
}

interface Tracked {
  readonly request: TaskRequest;
  readonly started: number;
  acknowledged: boolean;
}

/** What `admit` decided for a fresh delivery. */
export type Admission = 'run' | 'held' | 'revoked' | 'expired';

export class WorkerBreadth<D> {
  readonly revoked = new RevokedSet();
  readonly clock = new LamportClock();
  readonly events: EventDispatcher | undefined;
  readonly #options: BreadthOptions;
  readonly #active = new Map<string, Tracked>();
  readonly #reserved = new Map<string, TaskRequest>();
  readonly #totals: Record<string, number> = {};
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #rates = new Map<string, number | null>();
  readonly #schedule: EtaSchedule<{ delivery: D; request: TaskRequest }>;
  readonly #heartbeat: WorkerHeartbeat | undefined;
  #mailbox: Mailbox | undefined;
  #processed = 0;
  #prefetch: number;
  /** Called with a held ETA delivery when it is due (the worker runs it) or revoked meanwhile. */
  onDue: (delivery: D, request: TaskRequest) => void = () => undefined;
  onRevokedHeld: (delivery: D, request: TaskRequest) => void = () => undefined;

  constructor(options: BreadthOptions) {
    this.#options = options;
    this.#prefetch = options.concurrency;
    this.#schedule = new EtaSchedule(({ delivery, request }) => {
      void this.#shrinkPrefetch();
      this.onDue(delivery, request);
    });
    if (options.eventSink) {
      this.events = new EventDispatcher({ sink: options.eventSink, hostname: options.hostname, logger: options.logger, clock: this.clock, taskEvents: options.taskEvents ?? false });
      this.#heartbeat = new WorkerHeartbeat(this.events, () => ({ active: this.#active.size, processed: this.#processed }));
    }
  }

  async start(): Promise<void> {
    const { logger } = this.#options;
    if (this.#options.mailbox) {
      try {
        this.#mailbox = await this.#options.mailbox(new ControlNode(this.target(), this.clock));
      } catch (error) {
        logger.error(`remote control is off: cannot open the pidbox mailbox: ${messageOf(error)}`);
      }
    }
    await this.#heartbeat?.start().catch((error: unknown) => logger.warn(`worker-online not sent: ${messageOf(error)}`));
  }

  /** Stops the heartbeat (worker-offline), the mailbox, and hands back held ETA deliveries (left unacked). */
  async stop(): Promise<D[]> {
    const held = this.#schedule.drain().map((h) => h.delivery);
    await this.#mailbox?.close().catch(() => undefined);
    await this.#heartbeat?.stop().catch(() => undefined);
    await this.events?.close().catch(() => undefined);
    return held;
  }

  /**
   * A delivery decoded: revoked or expired ones are not run (the caller reports REVOKED and
   * acks), future ETAs are held (prefetch grows by one), others run now.
   */
  admit(delivery: D, request: TaskRequest, now: number = Date.now()): Admission {
    if (this.events?.taskEvents) this.events.task('task-received', taskReceivedFields(request));
    const verdict = this.check(request, now);
    if (verdict !== 'run') return verdict;
    let dueAt = now + etaDelayMs(request.eta, now);
    let rate = this.#rates.get(request.task);
    if (rate === undefined) this.#rates.set(request.task, (rate = this.#options.rateOf?.(request.task) ?? null));
    if (rate !== null) {
      let bucket = this.#buckets.get(request.task);
      if (!bucket) this.#buckets.set(request.task, (bucket = new TokenBucket(rate)));
      dueAt = bucket.reserve(dueAt);
    }
    if (dueAt > now) {
      this.#schedule.hold(request.id, { delivery, request }, dueAt);
      void this.#growPrefetch();
      return 'held';
    }
    this.#reserved.set(request.id, request);
    return 'run';
  }

  /** Python's `Request.revoked()`: checked on receipt and again just before running. */
  check(request: TaskRequest, now: number = Date.now()): 'run' | 'revoked' | 'expired' {
    if (this.revoked.has(request.id)) return 'revoked';
    if (isExpired(request.expires, now)) return 'expired';
    return 'run';
  }

  /** The REVOKED outcome was reported: event and bookkeeping. */
  revokedReported(request: TaskRequest, reason: 'revoked' | 'expired'): void {
    this.#reserved.delete(request.id);
    if (this.events?.taskEvents) this.events.task('task-revoked', taskRevokedFields(request.id, { expired: reason === 'expired' }));
  }

  started(request: TaskRequest, acknowledged: boolean): void {
    this.#reserved.delete(request.id);
    this.#active.set(request.id, { request, started: Date.now() / 1000, acknowledged });
    if (this.events?.taskEvents) this.events.task('task-started', { uuid: request.id });
  }

  finished(request: TaskRequest, meta: ResultMeta, runtimeSeconds: number, value?: unknown): void {
    this.#active.delete(request.id);
    this.#processed++;
    this.#totals[request.task] = (this.#totals[request.task] ?? 0) + 1;
    // Task events off (the default): no repr of the result on the hot path.
    if (!this.events?.taskEvents) return;
    const info = meta.result as { exc_type?: string; exc_message?: unknown[] } | null;
    if (meta.status === 'SUCCESS') this.events.task('task-succeeded', taskSucceededFields(request.id, value, runtimeSeconds));
    else if (meta.status === 'RETRY') this.events.task('task-retried', taskFailedFields(request.id, info?.exc_type ?? 'Exception', info?.exc_message ?? [], meta.traceback));
    else this.events.task('task-failed', taskFailedFields(request.id, info?.exc_type ?? 'Exception', info?.exc_message ?? [], meta.traceback));
  }

  async #growPrefetch(): Promise<void> {
    if (!this.#options.setPrefetch) return;
    this.#prefetch += 1;
    await this.#options.setPrefetch(this.#prefetch).catch((error: unknown) => this.#options.logger.warn(`cannot raise the prefetch window: ${messageOf(error)}`));
  }

  async #shrinkPrefetch(): Promise<void> {
    if (!this.#options.setPrefetch) return;
    this.#prefetch = Math.max(this.#options.concurrency, this.#prefetch - 1);
    await this.#options.setPrefetch(this.#prefetch).catch((error: unknown) => this.#options.logger.warn(`cannot lower the prefetch window: ${messageOf(error)}`));
  }

  /** The current prefetch window (concurrency + held ETA messages). */
  get prefetch(): number {
    return this.#prefetch;
  }

  #info(request: TaskRequest, started: number, acknowledged: boolean): ActiveTaskInfo {
    const info = request.deliveryInfo;
    return {
      id: request.id,
      name: request.task,
      args: request.argsrepr,
      kwargs: request.kwargsrepr,
      type: request.task,
      hostname: this.#options.hostname,
      time_start: started,
      acknowledged,
      delivery_info: { exchange: info?.exchange ?? '', routing_key: info?.routingKey ?? '', priority: request.priority, redelivered: info?.redelivered ?? false },
      worker_pid: process.pid,
    };
  }

  target(): ControlTarget {
    const self = this;
    const options = this.#options;
    return {
      hostname: options.hostname,
      registered: options.registered,
      active: () => [...self.#active.values()].map((t) => self.#info(t.request, t.started, t.acknowledged)),
      reserved: () => [...self.#reserved.values()].map((r) => self.#info(r, 0, false)),
      scheduled: (): ScheduledTaskInfo[] =>
        self.#schedule.entries().map((e) => ({ eta: isoMicros(new Date(e.dueAt)), priority: e.item.request.priority, request: self.#info(e.item.request, 0, false) })),
      totals: () => ({ ...self.#totals }),
      prefetchCount: () => self.#prefetch,
      concurrency: () => options.concurrency,
      queues: () => options.queues,
      brokerInfo: () => options.brokerInfo,
      revoked: this.revoked,
      setTaskEvents: (enabled) => {
        if (self.events) self.events.taskEvents = enabled;
      },
      onRevoke: (ids) => {
        // Held ETA messages that were revoked are answered now, not when their eta comes.
        for (const id of ids) {
          const held = self.#schedule.cancel(id);
          if (held) {
            void self.#shrinkPrefetch();
            self.onRevokedHeld(held.delivery, held.request);
          }
        }
      },
    };
  }
}
