/**
 * Remote control (`celery inspect` / `celery control`), broker-independent: parsing a
 * pidbox request, deciding whether it is for this node, and answering it, as
 * `celery/worker/control.py` does. The mailboxes that carry requests and replies live in
 * control-mailbox.ts (AMQP's `celery.pidbox` fanout exchange, Redis fanout); both feed the
 * same `ControlNode`, so a TS worker answers the same way whichever broker it uses.
 *
 * Replies are `{"<nodename>": <reply>}` bodies with headers `ticket` and `clock`
 * (protocol.md §7.2); an unknown method or a failing handler answers
 * `{"error": "<repr(exc)>"}` as kombu's `Node.dispatch` does.
 */
import { isPlainObject } from '../protocol/message.js';
import { reprStr } from '../protocol/pyrepr.js';

export interface ControlRequest {
  readonly method: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly destination: readonly string[] | null;
  readonly pattern: string | null;
  readonly matcher: string | null;
  /** Present when the sender waits for replies (inspect, ping). */
  readonly ticket: string | null;
  readonly replyTo: { readonly exchange: string; readonly routingKey: string } | null;
}

/** A task as `inspect active` lists it. */
export interface ActiveTaskInfo {
  readonly id: string;
  readonly name: string;
  readonly args: string;
  readonly kwargs: string;
  readonly type: string;
  readonly hostname: string;
  /** Unix seconds. */
  readonly time_start: number;
  readonly acknowledged: boolean;
  readonly delivery_info: { exchange: string; routing_key: string; priority: number | null; redelivered: boolean };
  readonly worker_pid: number;
}

/** An ETA task held by the worker, as `inspect scheduled` lists it. */
export interface ScheduledTaskInfo {
  readonly eta: string;
  readonly priority: number | null;
  readonly request: ActiveTaskInfo;
}

/** What the control commands read from and act on: the worker behind the node. */
export interface ControlTarget {
  readonly hostname: string;
  registered(): readonly string[];
  active(): readonly ActiveTaskInfo[];
  reserved(): readonly ActiveTaskInfo[];
  scheduled(): readonly ScheduledTaskInfo[];
  /** Counts of finished tasks per name (`stats().total`). */
  totals(): Readonly<Record<string, number>>;
  prefetchCount(): number;
  concurrency(): number;
  queues(): readonly string[];
  brokerInfo(): Readonly<Record<string, unknown>>;
  readonly revoked: RevokedSet;
  /** Turns task events on or off (`enable_events` / `disable_events`). */
  setTaskEvents?(enabled: boolean): void;
  /** A revoke arrived: drop matching held (ETA) or queued messages now. */
  onRevoke?(ids: readonly string[]): void;
  /** `shutdown` command. */
  shutdown?(): void;
}

/**
 * Revoked task ids, as `celery.worker.state.revoked`: at most 50,000 ids, each kept for
 * 10,800 s (`REVOKES_MAX`, `REVOKE_EXPIRES`); the oldest go first.
 */
export class RevokedSet {
  readonly #ids = new Map<string, number>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { max?: number; ttlSeconds?: number; now?: () => number } = {}) {
    this.#max = options.max ?? 50_000;
    this.#ttlMs = (options.ttlSeconds ?? 10_800) * 1000;
    this.#now = options.now ?? Date.now;
  }

  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.set(id, this.#now());
    while (this.#ids.size > this.#max) {
      const oldest = this.#ids.keys().next().value;
      if (oldest === undefined) break;
      this.#ids.delete(oldest);
    }
  }

  has(id: string): boolean {
    const at = this.#ids.get(id);
    if (at === undefined) return false;
    if (this.#now() - at > this.#ttlMs) {
      this.#ids.delete(id);
      return false;
    }
    return true;
  }

  /** Live ids, oldest first. */
  ids(): string[] {
    return [...this.#ids.keys()].filter((id) => this.has(id));
  }

  /** `{id: unix seconds}`, the shape mingle's `hello` exchanges. */
  asTimestamps(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const id of this.ids()) out[id] = this.#ids.get(id)! / 1000;
    return out;
  }
}

/** A Lamport clock, as kombu's `LamportClock`: ticks on send, adopts max+1 on receive. */
export class LamportClock {
  #value = 0;
  get value(): number {
    return this.#value;
  }
  forward(): number {
    this.#value += 1;
    return this.#value;
  }
  adjust(other: unknown): number {
    if (typeof other === 'number' && Number.isSafeInteger(other) && other > this.#value) this.#value = other;
    this.#value += 1;
    return this.#value;
  }
}

/** Reads a pidbox request body, or returns why it is not one. */
export function parseControlRequest(body: unknown): ControlRequest | string {
  if (!isPlainObject(body)) return 'a control message must be a JSON object';
  const method = body['method'];
  if (typeof method !== 'string' || method === '') return 'a control message needs a "method" string';
  const args = body['arguments'] ?? {};
  if (!isPlainObject(args)) return '"arguments" must be an object';
  const destination = body['destination'] ?? null;
  if (destination !== null && !(Array.isArray(destination) && destination.every((d) => typeof d === 'string'))) {
    return '"destination" must be null or a list of node names';
  }
  const text = (key: string): string | null => (typeof body[key] === 'string' ? (body[key] as string) : null);
  const rawReply = body['reply_to'];
  let replyTo: ControlRequest['replyTo'] = null;
  if (isPlainObject(rawReply) && typeof rawReply['exchange'] === 'string' && typeof rawReply['routing_key'] === 'string') {
    replyTo = { exchange: rawReply['exchange'], routingKey: rawReply['routing_key'] };
  }
  return {
    method,
    arguments: args,
    destination: destination as string[] | null,
    pattern: text('pattern'),
    matcher: text('matcher'),
    ticket: text('ticket'),
    replyTo,
  };
}

/** kombu's `Mailbox` destination rules: an explicit list, else a glob/pcre pattern, else everyone. */
export function isForNode(request: ControlRequest, hostname: string): boolean {
  if (request.destination !== null && request.destination.length > 0) return request.destination.includes(hostname);
  if (request.pattern !== null && request.matcher !== null) {
    if (request.matcher === 'pcre') {
      try {
        return new RegExp(request.pattern).test(hostname);
      } catch {
        return false;
      }
    }
    return globToRegExp(request.pattern).test(hostname);
  }
  return true;
}

function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

type Handler = (target: ControlTarget, args: Readonly<Record<string, unknown>>) => unknown;

function taskIds(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The commands a TS worker answers, named and shaped as `celery/worker/control.py`'s. */
const COMMANDS: Readonly<Record<string, Handler>> = {
  ping: () => ({ ok: 'pong' }),
  revoke: (target, args) => {
    const ids = taskIds(args['task_id']);
    for (const id of ids) target.revoked.add(id);
    target.onRevoke?.(ids);
    // A JS handler cannot be killed: terminate only stops the wait (documented in the README, "Remote control").
    return { ok: `tasks ${ids.join(', ')} flagged as revoked` };
  },
  registered: (target) => [...target.registered()].sort(),
  active: (target) => target.active(),
  reserved: (target) => target.reserved(),
  scheduled: (target) => target.scheduled(),
  revoked: (target) => target.revoked.ids(),
  stats: (target) => ({
    total: target.totals(),
    pid: process.pid,
    clock: 0, // replaced by the node with its clock
    uptime: Math.round(process.uptime()),
    pool: { 'max-concurrency': target.concurrency(), processes: [process.pid], implementation: 'celery-gen' },
    broker: target.brokerInfo(),
    prefetch_count: target.prefetchCount(),
    rusage: rusage(),
  }),
  active_queues: (target) =>
    target.queues().map((name) => ({
      name,
      exchange: { name: '', type: 'direct', durable: true, auto_delete: false, arguments: null },
      routing_key: name,
      queue_arguments: null,
      binding_arguments: null,
      consumer_arguments: null,
      durable: true,
      exclusive: false,
      auto_delete: false,
      no_ack: false,
      alias: null,
      bindings: [],
      no_declare: null,
      expires: null,
      message_ttl: null,
      max_length: null,
      max_length_bytes: null,
      max_priority: null,
    })),
  clock: () => ({ clock: 0 }),
  hello: (target) => ({ revoked: target.revoked.asTimestamps(), clock: 0 }),
  report: (target) => ({ ok: `celery-gen worker ${target.hostname} (Node ${process.version})` }),
  enable_events: (target) => {
    if (!target.setTaskEvents) return { ok: 'task events not supported' };
    target.setTaskEvents(true);
    return { ok: 'task events enabled' };
  },
  disable_events: (target) => {
    if (!target.setTaskEvents) return { ok: 'task events not supported' };
    target.setTaskEvents(false);
    return { ok: 'task events disabled' };
  },
  shutdown: (target) => {
    target.shutdown?.();
    return { ok: 'shutting down' };
  },
};

/** Method names a TS node answers (also what `celery inspect` could list). */
export const CONTROL_METHODS: readonly string[] = Object.keys(COMMANDS);

/**
 * Runs one request against a target. Returns the reply value (already `{error}` on
 * failure, as kombu replies), with `clock` fields filled from `clock`.
 */
export function dispatchControl(request: ControlRequest, target: ControlTarget, clock: number): unknown {
  const handler = Object.hasOwn(COMMANDS, request.method) ? COMMANDS[request.method] : undefined;
  if (!handler) return { error: `KeyError(${reprStr(request.method)})` };
  try {
    const reply = handler(target, request.arguments);
    if (isPlainObject(reply) && Object.hasOwn(reply, 'clock')) return { ...reply, clock };
    return reply;
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Exception';
    const message = error instanceof Error ? error.message : String(error);
    return { error: `${name}(${reprStr(message)})` };
  }
}

function rusage(): Record<string, number> {
  const u = process.resourceUsage();
  return { utime: u.userCPUTime / 1e6, stime: u.systemCPUTime / 1e6, maxrss: u.maxRSS };
}

/** One reply to send: body `{hostname: reply}`, headers `ticket` and `clock`. */
export interface ControlReply {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Record<string, unknown>;
  readonly headers: { ticket: string; clock: number };
}

/**
 * A node of the mailbox: takes decoded request bodies from any mailbox, answers the ones
 * meant for it. The clock is the worker's Lamport clock (events share it).
 */
export class ControlNode {
  readonly target: ControlTarget;
  readonly clock: LamportClock;

  constructor(target: ControlTarget, clock: LamportClock = new LamportClock()) {
    this.target = target;
    this.clock = clock;
  }

  /** The reply to publish for `body` (headers carry the sender's clock), or null when none is due. */
  handle(body: unknown, headers: Readonly<Record<string, unknown>> = {}): ControlReply | null | string {
    const request = parseControlRequest(body);
    if (typeof request === 'string') return request;
    if (!isForNode(request, this.target.hostname)) return null;
    const clock = this.clock.adjust(headers['clock']);
    const reply = dispatchControl(request, this.target, clock);
    if (request.replyTo === null || request.ticket === null) return null;
    return {
      exchange: request.replyTo.exchange,
      routingKey: request.replyTo.routingKey,
      body: { [this.target.hostname]: reply },
      headers: { ticket: request.ticket, clock: this.clock.forward() },
    };
  }
}
