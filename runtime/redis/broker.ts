/**
 * kombu's Redis transport, as Python Celery reads and writes it
 * (`kombu/transport/redis.py`, protocol.md §9): queues are lists (LPUSH to publish, BRPOP
 * to consume, one list per priority step), a delivered message is parked in the `unacked`
 * hash and `unacked_index` zset until acked, and messages parked longer than the
 * visibility timeout are pushed back by whichever consumer next holds `unacked_mutex`.
 * Python and TypeScript workers can therefore share queues and rescue each other's tasks.
 *
 * Knows the envelope, not the task message: callers pass body bytes and headers encoded
 * by protocol/message.ts.
 */
import { randomUUID } from 'node:crypto';
import { Command, type Redis } from 'ioredis';
import {
  decodeBinding,
  decodeEnvelope,
  encodeBinding,
  encodeEnvelope,
  encodeUnackedEntry,
  type EnvelopeMessage,
  type OutgoingMessage,
  PRIORITY_STEPS,
  queueKeyForPriority,
  queueOfKey,
  restoredPayload,
} from './envelope.js';
import {
  backoffDelay,
  closeRedisClient,
  createRedisClient,
  messageOf,
  parseRedisUrl,
  type RedisEndpoint,
  type RedisLog,
  RedisTransportError,
  SILENT_REDIS_LOG,
} from './connection.js';

const UNACKED_KEY = 'unacked';
const UNACKED_INDEX_KEY = 'unacked_index';
const UNACKED_MUTEX_KEY = 'unacked_mutex';
/** kombu's `unacked_mutex_expire`, seconds. */
const UNACKED_MUTEX_EXPIRE = 300;
const BINDING_PREFIX = '_kombu.binding.';
/** Where envelopes that are not kombu JSON are kept (kombu itself would lose them). */
const UNPARSEABLE_KEY = '_celery_gen.unparseable';

/**
 * Puts an `unacked` entry back on its queues only if it is still the entry we read, so
 * two restorers (or a restore racing an ack) never duplicate it. This is kombu's
 * WATCH/MULTI `restore_by_tag` transaction as one atomic script.
 * KEYS: unacked, unacked_index, queue... ARGV: tag, expected entry, payload, 'left'|'right'
 */
const RESTORE_SCRIPT = `
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
for i = 3, #KEYS do
  if ARGV[4] == 'left' then redis.call('LPUSH', KEYS[i], ARGV[3]) else redis.call('RPUSH', KEYS[i], ARGV[3]) end
end
return 1
`;

/** redis-py's Lock.release: delete the mutex only if we still own it. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** At most this many messages in one batched LPUSH (bounds the command a tight publish loop builds). */
const MAX_BATCH = 500;

/** LPUSHes to one list waiting for the end of the tick, and the promise their publishers share. */
interface PushGroup {
  readonly key: string;
  readonly payloads: string[];
  readonly done: Promise<unknown>;
  resolve(reply: unknown): void;
  reject(error: unknown): void;
}

export interface RedisBrokerOptions {
  readonly url: string;
  readonly log?: RedisLog;
  /**
   * Seconds a delivered message may stay unacked before any consumer restores it to its
   * queue (kombu's `visibility_timeout` transport option). Set it alike on every Python and
   * TypeScript peer, and above your longest task and ETA. @default 3600
   */
  readonly visibilityTimeout?: number;
  /** Milliseconds between checks for timed-out unacked messages while consuming. @default 10000 */
  readonly restoreInterval?: number;
  /** kombu's `priority_steps`. @default [0, 3, 6, 9] */
  readonly prioritySteps?: readonly number[];
  /** Seconds one BRPOP blocks, which bounds how long `cancel()` waits. @default 1 */
  readonly pollTimeout?: number;
  /** Prefix of the connection names `CLIENT LIST` shows (`<prefix>-broker`, `<prefix>-consumer`). @default 'celery-gen' */
  readonly connectionName?: string;
}

/** A message taken from a queue: acknowledge or reject it exactly once. */
export interface RedisDelivery extends EnvelopeMessage {
  /** The queue it was taken from. */
  readonly queue: string;
  /** The envelope text as it was in the list. */
  readonly raw: string;
  /** Removes it from `unacked` (kombu `basic_ack`: ZREM + HDEL). */
  ack(): Promise<void>;
  /**
   * kombu `basic_reject`: with `requeue` the message goes back to the far end of its queue
   * (LPUSH, marked redelivered); without, it is dropped.
   */
  reject(requeue: boolean): Promise<void>;
}

export interface ConsumeOptions {
  /** Messages delivered and not yet acked at most; 0 = unlimited. @default 1 */
  readonly prefetch?: number;
  /** Declare the queues' bindings as Python's worker does. @default true */
  readonly declare?: boolean;
  /**
   * kombu's `no_ack`: messages are not parked in `unacked` (a crash loses them); ack and
   * reject do nothing. What Python's rpc result consumer uses. @default false
   */
  readonly noAck?: boolean;
}

export interface RedisConsumer {
  readonly queues: readonly string[];
  /** Messages delivered and not yet acked or rejected. */
  readonly inFlight: number;
  /** Changes the prefetch bound (0 = unlimited); a larger one takes effect at once. */
  setPrefetch(count: number): void;
  /** Stops taking messages (waits for the BRPOP in progress; a message it returns is restored). */
  cancel(): Promise<void>;
  /** Pushes every message delivered to this consumer and not yet acked back to its queue, as kombu does at shutdown. */
  restoreUnacked(): Promise<number>;
}

export type DeliveryHandler = (delivery: RedisDelivery) => void;

/** A fanout subscription (kombu's PSUBSCRIBE for fanout exchanges). */
export interface FanoutSubscription {
  readonly channel: string;
  close(): Promise<void>;
}

export class RedisBroker {
  readonly endpoint: RedisEndpoint;
  readonly visibilityTimeout: number;
  readonly #log: RedisLog;
  readonly #restoreInterval: number;
  readonly #steps: readonly number[];
  readonly #pollTimeout: number;
  readonly #name: string;
  #client: Redis | undefined;
  readonly #consumers = new Set<Consumer>();
  readonly #declared = new Set<string>();
  /** Publishes of this tick not yet sent, grouped by list in call order (see #batchedPush). */
  #batch: PushGroup[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: RedisBrokerOptions) {
    this.endpoint = parseRedisUrl(options.url);
    this.#log = options.log ?? SILENT_REDIS_LOG;
    this.visibilityTimeout = options.visibilityTimeout ?? 3600;
    this.#restoreInterval = options.restoreInterval ?? 10_000;
    this.#steps = options.prioritySteps ?? PRIORITY_STEPS;
    this.#pollTimeout = options.pollTimeout ?? 1;
    this.#name = options.connectionName ?? 'celery-gen';
  }

  get redactedUrl(): string {
    return this.endpoint.redacted;
  }

  /** The shared command connection (publish, ack, restore), opened on first use. */
  get client(): Redis {
    if (this.#closing) throw new RedisTransportError('CLOSED', 'the Redis broker is closed');
    this.#client ??= createRedisClient(this.endpoint, { name: `${this.#name}-broker`, log: this.#log, autoPipeline: true });
    return this.#client;
  }

  /** Resolves once the command connection is up; rejects with a redacted error if it cannot connect in time. */
  async connect(timeoutMs = 10_000): Promise<void> {
    const client = this.client;
    if (client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new RedisTransportError('CONNECT_FAILED', `cannot connect to ${this.endpoint.redacted} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        client.off('ready', onReady);
      };
      client.on('ready', onReady);
    });
  }

  /**
   * Records the queue's binding in `_kombu.binding.<queue>` as Celery declares a task queue
   * (exchange and routing key named after the queue), so a Python publisher routing by
   * exchange finds it.
   */
  async declareQueue(queue: string): Promise<void> {
    if (this.#declared.has(queue)) return;
    await this.client.sadd(`${BINDING_PREFIX}${queue}`, encodeBinding(queue, '', queue));
    this.#declared.add(queue);
  }

  /**
   * Publishes as kombu's `basic_publish`: exchange '' puts the message on the list named by
   * the routing key; a named exchange is looked up in its `_kombu.binding.*` table (direct
   * match). A message no queue takes is an error, never a silent drop.
   */
  publish(message: OutgoingMessage, route: { exchange?: string; routingKey: string; declare?: boolean }): Promise<string> {
    try {
      const exchange = route.exchange ?? '';
      const deliveryTag = randomUUID();
      const payload = encodeEnvelope(message, { exchange, routingKey: route.routingKey }, deliveryTag);
      const priority = message.priority ?? 0;
      // The common case, a direct publish to a declared queue, is one LPUSH with no async frame
      // around it: each `await` layer cost promise hops per task on the publish path.
      if (exchange === '' && !(route.declare && !this.#declared.has(route.routingKey))) {
        return this.#batchedPush(queueKeyForPriority(route.routingKey, priority, this.#steps), payload).then(() => deliveryTag);
      }
      return this.#routeAndPush(exchange, route.routingKey, priority, payload).then(() => deliveryTag);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * LPUSHes `payload` together with the other publishes to the same list in this tick: one
   * `LPUSH key m1 m2 …` instead of one command per message (one ioredis command, promise and
   * reply per batch; the per-message command cost was most of a publish's client time).
   * Same guarantees as one LPUSH each: every publisher's promise settles with the reply to
   * the command that carried its message, and the list order is the call order
   * (`LPUSH k a b` leaves the list as `LPUSH k a; LPUSH k b` does). Publishes to other lists
   * start a new group, so groups go out in call order too. Flushed at the end of the
   * current tick (process.nextTick, after the promise jobs that run in it): no timer, no
   * added latency.
   */
  #batchedPush(key: string, payload: string): Promise<unknown> {
    let group = this.#batch[this.#batch.length - 1];
    if (group === undefined || group.key !== key || group.payloads.length >= MAX_BATCH) {
      let settle: Pick<PushGroup, 'resolve' | 'reject'> | undefined;
      const done = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
      group = { key, payloads: [], done, ...settle! };
      if (this.#batch.length === 0) process.nextTick(this.#flush);
      this.#batch.push(group);
    }
    group.payloads.push(payload);
    return group.done;
  }

  readonly #flush = (): void => {
    const groups = this.#batch;
    if (groups.length === 0) return;
    this.#batch = [];
    let client: Redis;
    try {
      client = this.client;
    } catch (error) {
      for (const group of groups) group.reject(error);
      return;
    }
    for (const group of groups) {
      // Straight to the socket: these are batched already, and the client's auto-pipelining
      // would hold the command until setImmediate, a wait on every round (measured: 0.62x
      // raw through lpush(), 0.70x sent directly, in the same process).
      const command = new Command('lpush', [group.key, ...group.payloads]);
      client.sendCommand(command);
      command.promise.then(group.resolve, group.reject);
    }
  };

  /** publish()'s other cases: declare the queue first, or find the queues bound to a named exchange. */
  async #routeAndPush(exchange: string, routingKey: string, priority: number, payload: string): Promise<void> {
    if (exchange === '') await this.declareQueue(routingKey);
    const queues = exchange === '' ? [routingKey] : await this.#lookup(exchange, routingKey);
    if (queues.length === 0) {
      throw new RedisTransportError('UNROUTABLE', `no queue is bound to exchange '${exchange}' with routing key '${routingKey}'`);
    }
    if (queues.length === 1) await this.client.lpush(queueKeyForPriority(queues[0]!, priority, this.#steps), payload);
    else {
      const multi = this.client.multi();
      for (const queue of queues) multi.lpush(queueKeyForPriority(queue, priority, this.#steps), payload);
      await multi.exec();
    }
  }

  async #lookup(exchange: string, routingKey: string): Promise<string[]> {
    if (exchange === '') return [routingKey];
    const members = await this.client.smembers(`${BINDING_PREFIX}${exchange}`);
    const queues = new Set<string>();
    for (const member of members) {
      const binding = decodeBinding(member);
      if (binding.routingKey === routingKey) queues.add(binding.queue);
    }
    return [...queues];
  }

  /** Messages waiting in a queue, all priority steps together (kombu `_size`). */
  async size(queue: string): Promise<number> {
    const multi = this.client.multi();
    for (const step of this.#steps) multi.llen(queueKeyForPriority(queue, step, this.#steps));
    const replies = (await multi.exec()) ?? [];
    return replies.reduce((sum, [, n]) => sum + (typeof n === 'number' ? n : 0), 0);
  }

  /** Deletes a queue's lists and its binding (kombu `_delete`). */
  async deleteQueue(queue: string): Promise<void> {
    const multi = this.client.multi();
    multi.srem(`${BINDING_PREFIX}${queue}`, encodeBinding(queue, '', queue));
    for (const step of this.#steps) multi.del(queueKeyForPriority(queue, step, this.#steps));
    await multi.exec();
    this.#declared.delete(queue);
  }

  /**
   * Consumes `queues` with BRPOP on a connection of its own, round-robin across queues as
   * kombu rotates them, priority step by step. `handler` is called once per message.
   */
  consume(queues: readonly string[], handler: DeliveryHandler, options: ConsumeOptions = {}): RedisConsumer {
    if (queues.length === 0) throw new RedisTransportError('NO_QUEUES', 'consume() needs at least one queue');
    const blocking = createRedisClient(this.endpoint, { name: `${this.#name}-consumer`, log: this.#log });
    const consumer = new Consumer(this, blocking, [...queues], handler, options.noAck ? 0 : (options.prefetch ?? 1), this.#log, this.#steps, this.#pollTimeout, this.#restoreInterval, options.noAck ?? false);
    this.#consumers.add(consumer);
    consumer.finished.finally(() => this.#consumers.delete(consumer)).catch((error: unknown) => this.#log.error('consumer ended with an error', { error: messageOf(error) }));
    consumer.start(options.declare ?? true);
    return consumer;
  }

  /**
   * kombu's fanout channel name (`fanout_prefix` and `fanout_patterns` on, the kombu 4+
   * defaults): `/<db>.<exchange>`, plus `/<routing key>` when there is one.
   */
  fanoutChannel(exchange: string, routingKey = ''): string {
    return `/${this.endpoint.db}.${exchange}${routingKey ? `/${routingKey}` : ''}`;
  }

  /**
   * Publishes to a fanout exchange (remote control's `celery.pidbox`, events' `celeryev`):
   * a Redis PUBLISH of the envelope, so only subscribers connected now receive it, as with
   * kombu. Resolves with the number of subscribers that got it.
   */
  async publishFanout(message: OutgoingMessage, exchange: string, routingKey = ''): Promise<number> {
    return this.client.publish(this.fanoutChannel(exchange, routingKey), encodeEnvelope(message, { exchange, routingKey }));
  }

  /**
   * Receives a fanout exchange's messages on a connection of its own, as a kombu queue bound
   * to it does (`#` in the routing key becomes the PSUBSCRIBE wildcard `*`).
   */
  async subscribeFanout(exchange: string, routingKey: string, handler: (message: EnvelopeMessage) => void): Promise<FanoutSubscription> {
    const channel = this.fanoutChannel(exchange, routingKey.replace(/#/g, '*'));
    const subscriber = createRedisClient(this.endpoint, { name: `${this.#name}-fanout`, log: this.#log });
    subscriber.on('pmessage', (_pattern: string, _channel: string, text: string) => {
      let message: EnvelopeMessage;
      try {
        message = decodeEnvelope(text);
      } catch (error) {
        this.#log.warn('ignoring a fanout message that is not a kombu envelope', { channel, error: messageOf(error) });
        return;
      }
      try {
        handler(message);
      } catch (error) {
        this.#log.error('fanout handler threw', { channel, error: messageOf(error) });
      }
    });
    await subscriber.psubscribe(channel);
    return { channel, close: () => closeRedisClient(subscriber, this.#log) };
  }

  /** Records a binding of a named exchange (kombu `_queue_bind`), so publishes to it reach `queue`. */
  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    await this.client.sadd(`${BINDING_PREFIX}${exchange}`, encodeBinding(routingKey, '', queue));
  }

  /** Removes a binding recorded by bindQueue. */
  async unbindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    await this.client.srem(`${BINDING_PREFIX}${exchange}`, encodeBinding(routingKey, '', queue));
  }

  /** @internal Parks a delivered message in `unacked` (kombu `QoS.append`). */
  async park(tag: string, raw: string, exchange: string, routingKey: string): Promise<void> {
    await this.client.multi().zadd(UNACKED_INDEX_KEY, Date.now() / 1000, tag).hset(UNACKED_KEY, tag, encodeUnackedEntry(raw, exchange, routingKey)).exec();
  }

  /** kombu `QoS.ack`: ZREM + HDEL in one transaction. */
  async ack(tag: string): Promise<void> {
    await this.client.multi().zrem(UNACKED_INDEX_KEY, tag).hdel(UNACKED_KEY, tag).exec();
  }

  /** kombu `QoS.reject`. */
  async reject(tag: string, requeue: boolean): Promise<void> {
    if (requeue) await this.restoreByTag(tag, true);
    await this.ack(tag);
  }

  /**
   * kombu `restore_by_tag`: the parked message goes back to its queue (RPUSH, so it is the
   * next one taken; LPUSH with `leftmost`, to the far end), marked redelivered.
   * Returns whether a message was restored.
   */
  async restoreByTag(tag: string, leftmost = false): Promise<boolean> {
    const client = this.client;
    const entry = await client.hget(UNACKED_KEY, tag);
    if (entry === null) {
      await this.ack(tag);
      return false;
    }
    let restored: ReturnType<typeof restoredPayload>;
    try {
      restored = restoredPayload(entry);
    } catch (error) {
      this.#log.error('cannot restore an unacked message: its entry is not kombu JSON; leaving it in place', { tag, error: messageOf(error), entry: entry.slice(0, 200) });
      return false;
    }
    const queues = await this.#lookup(restored.exchange, restored.routingKey);
    if (queues.length === 0) {
      // kombu would drop it (no dead-letter queue by default); we keep it parked and say so.
      this.#log.error('cannot restore an unacked message: no queue is bound to its route; leaving it in place', { tag, exchange: restored.exchange, routingKey: restored.routingKey });
      return false;
    }
    const done = await client.eval(RESTORE_SCRIPT, 2 + queues.length, UNACKED_KEY, UNACKED_INDEX_KEY, ...queues, tag, entry, restored.payload, leftmost ? 'left' : 'right');
    return done === 1;
  }

  /**
   * kombu `QoS.restore_visible`: under the `unacked_mutex` lock (skipped when another
   * consumer holds it), restores every message parked longer than the visibility timeout.
   * Returns how many it restored.
   */
  async restoreVisible(limit?: number): Promise<number> {
    const client = this.client;
    const token = randomUUID();
    const locked = await client.set(UNACKED_MUTEX_KEY, token, 'EX', UNACKED_MUTEX_EXPIRE, 'NX');
    if (locked !== 'OK') return 0;
    let restored = 0;
    try {
      const ceiling = Date.now() / 1000 - this.visibilityTimeout;
      const tags =
        limit === undefined
          ? await client.zrevrangebyscore(UNACKED_INDEX_KEY, ceiling, 0)
          : await client.zrevrangebyscore(UNACKED_INDEX_KEY, ceiling, 0, 'LIMIT', 0, limit);
      for (const tag of tags) if (await this.restoreByTag(tag)) restored++;
    } finally {
      await client.eval(RELEASE_SCRIPT, 1, UNACKED_MUTEX_KEY, token);
    }
    if (restored > 0) this.#log.warn('restored messages whose consumer did not ack within the visibility timeout', { count: restored, visibilityTimeout: this.visibilityTimeout });
    return restored;
  }

  /** Cancels consumers (their unacked messages stay parked for the worker to settle), then closes connections. Idempotent. */
  close(): Promise<void> {
    // Publishes made before close() go out first, as they would have without batching.
    if (!this.#closing) this.#flush();
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#consumers].map((c) => c.cancel()));
      const client = this.#client;
      this.#client = undefined;
      if (client) await closeRedisClient(client, this.#log);
    })();
    return this.#closing;
  }
}

class Consumer implements RedisConsumer {
  readonly queues: readonly string[];
  readonly finished: Promise<void>;
  #finish!: () => void;
  #order: string[];
  #cancelled = false;
  #inFlight = new Set<string>();
  #slotWaiter: (() => void) | undefined;
  #restoreTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #prefetch: number;

  constructor(
    readonly broker: RedisBroker,
    readonly blocking: Redis,
    queues: string[],
    readonly handler: DeliveryHandler,
    prefetch: number,
    readonly log: RedisLog,
    readonly steps: readonly number[],
    readonly pollTimeout: number,
    readonly restoreInterval: number,
    readonly noAck: boolean,
  ) {
    this.queues = queues;
    this.#prefetch = prefetch;
    this.#order = [...queues];
    this.finished = new Promise<void>((resolve) => {
      this.#finish = resolve;
    });
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(declare: boolean): void {
    void this.#run(declare);
  }

  async #run(declare: boolean): Promise<void> {
    try {
      if (declare) for (const queue of this.queues) await this.broker.declareQueue(queue);
      if (!this.noAck) {
        // As a Python worker does when it starts polling: rescue what dead consumers left behind.
        await this.#restoreVisible();
        this.#restoreTimer = setInterval(() => void this.#restoreVisible(), this.restoreInterval);
        this.#restoreTimer.unref();
      }
      while (!this.#cancelled) {
        if (this.#prefetch > 0 && this.#inFlight.size >= this.#prefetch) {
          await new Promise<void>((resolve) => {
            this.#slotWaiter = resolve;
          });
          continue;
        }
        try {
          await this.#pollOnce();
          this.#attempt = 0;
        } catch (error) {
          // A consumer that stops on one error would strand its queues: log, back off, go on.
          const delay = backoffDelay(this.#attempt++);
          this.log.error('redis consumer error; retrying', { queues: this.queues, error: messageOf(error), retryInMs: delay });
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    } catch (error) {
      this.log.error('redis consumer stopped on an unexpected error', { queues: this.queues, error: messageOf(error) });
    } finally {
      if (this.#restoreTimer) clearInterval(this.#restoreTimer);
      await closeRedisClient(this.blocking, this.log);
      this.#finish();
    }
  }

  async #restoreVisible(): Promise<void> {
    try {
      await this.broker.restoreVisible();
    } catch (error) {
      this.log.warn('checking for timed-out unacked messages failed; will retry', { error: messageOf(error) });
    }
  }

  async #pollOnce(): Promise<void> {
    // kombu's key order: every queue at step 0, then every queue at the next step...
    const keys = this.steps.flatMap((step) => this.#order.map((queue) => queueKeyForPriority(queue, step, this.steps)));
    let reply: [string, string] | null;
    try {
      reply = await this.blocking.brpop(...keys, this.pollTimeout);
      this.#attempt = 0;
    } catch (error) {
      if (this.#cancelled) return;
      const delay = backoffDelay(this.#attempt++);
      this.log.warn('BRPOP failed; retrying', { error: messageOf(error), retryInMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
      return;
    }
    if (reply === null) return;
    const [key, raw] = reply;
    const queue = queueOfKey(key);
    // Fair cycle: the queue just served goes to the back (kombu round_robin_cycle.rotate).
    this.#order = [...this.#order.filter((q) => q !== queue), queue];
    let envelope: EnvelopeMessage;
    try {
      envelope = decodeEnvelope(raw);
    } catch (error) {
      // kombu would crash the drain loop and lose it; we keep it where an operator can find it.
      this.log.error('a message in the queue is not a kombu envelope; moved to the _celery_gen.unparseable hash', {
        queue,
        error: messageOf(error),
        raw: raw.slice(0, 200),
      });
      const tag = randomUUID();
      await this.broker.client.hset(UNPARSEABLE_KEY, tag, raw);
      return;
    }
    const tag = envelope.deliveryTag || randomUUID();
    await this.#take(key, raw, queue, envelope, tag);
  }

  async #take(key: string, raw: string, queue: string, envelope: EnvelopeMessage, tag: string): Promise<void> {
    if (this.noAck) {
      this.#deliver({ ...envelope, deliveryTag: tag, queue, raw, ack: () => Promise.resolve(), reject: () => Promise.resolve() });
      return;
    }
    // Not awaited: the handler starts while the park is on its way. Its ack, reject or
    // restore goes out on the same connection after the park, so Redis sees them in order,
    // and the next BRPOP need not wait a round trip.
    const parked = this.broker.park(tag, raw, envelope.deliveryInfo.exchange, envelope.deliveryInfo.routingKey || queue);
    if (this.#cancelled) {
      try {
        await parked;
      } catch (error) {
        this.log.error('could not park a taken message in unacked; pushing it back to its queue', { queue, tag, error: messageOf(error) });
        await this.broker.client.rpush(key, raw);
        return;
      }
      // Taken by the last BRPOP after cancel(): straight back where it was.
      await this.broker.restoreByTag(tag);
      return;
    }
    parked.catch((error: unknown) =>
      this.log.error('could not park a delivered message in unacked: it runs, but is lost if this worker dies before acking it', { queue, tag, error: messageOf(error) }),
    );
    this.#inFlight.add(tag);
    let settled = false;
    const settle = async (action: () => Promise<void>): Promise<void> => {
      if (settled) throw new RedisTransportError('ALREADY_SETTLED', `message ${tag} was already acked or rejected`);
      settled = true;
      try {
        await action();
      } finally {
        this.#release(tag);
      }
    };
    const delivery: RedisDelivery = {
      ...envelope,
      deliveryTag: tag,
      queue,
      raw,
      ack: () => settle(() => this.broker.ack(tag)),
      reject: (requeue: boolean) => settle(() => this.broker.reject(tag, requeue)),
    };
    this.#deliver(delivery);
  }

  #deliver(delivery: RedisDelivery): void {
    try {
      this.handler(delivery);
    } catch (error) {
      this.log.error('delivery handler threw; the message stays unacked and will be restored', { tag: delivery.deliveryTag, error: messageOf(error) });
    }
  }

  setPrefetch(count: number): void {
    this.#prefetch = Math.max(0, Math.floor(count));
    const waiter = this.#slotWaiter;
    this.#slotWaiter = undefined;
    waiter?.();
  }

  #release(tag: string): void {
    this.#inFlight.delete(tag);
    const waiter = this.#slotWaiter;
    this.#slotWaiter = undefined;
    waiter?.();
  }

  async cancel(): Promise<void> {
    this.#cancelled = true;
    const waiter = this.#slotWaiter;
    this.#slotWaiter = undefined;
    waiter?.();
    await this.finished;
  }

  async restoreUnacked(): Promise<number> {
    let restored = 0;
    for (const tag of [...this.#inFlight]) {
      if (await this.broker.restoreByTag(tag)) restored++;
      this.#release(tag);
    }
    return restored;
  }
}
