/**
 * Celery's Redis result backend (`celery/backends/redis.py` and `base.py` of 5.2.6,
 * protocol.md §4.4/§4.6): task results under `celery-task-meta-<id>`, written with SETEX
 * and PUBLISHed on a channel of the same name; awaited by SUBSCRIBE plus GET (no polling);
 * group results under `celery-taskset-meta-<id>`; and the native Redis chord join
 * (`….j` zset, `….t` counter, `….s` size), so a chord's header can run on Python workers
 * and its callback on ours, or the other way round.
 *
 * It stores and reads result metas; turning an Error into the exception dict (or a
 * FAILURE meta into a TaskError) is protocol/message.ts's job.
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { decodeJson, encodeJson } from '../protocol/kombu-json.js';
import { excRepr } from '../protocol/pyrepr.js';
import {
  closeRedisClient,
  createRedisClient,
  messageOf,
  parseRedisUrl,
  type RedisEndpoint,
  type RedisLog,
  RedisTransportError,
  SILENT_REDIS_LOG,
} from './connection.js';

export const TASK_KEY_PREFIX = 'celery-task-meta-';
export const GROUP_KEY_PREFIX = 'celery-taskset-meta-';

export const READY_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
const PROPAGATE_STATES: ReadonlySet<string> = new Set(['FAILURE', 'REVOKED']);

/** Redis refuses strings over 512 MB; Celery checks before sending (`BackendStoreError`). */
const MAX_VALUE_SIZE = 536_870_912;

/** A result meta as stored (wire names, Celery's key order). */
export interface RedisResultMeta {
  readonly status: string;
  readonly result: unknown;
  readonly traceback: string | null;
  readonly children: readonly unknown[] | null;
  readonly date_done: string | null;
  readonly task_id: string;
  readonly group_id?: string;
  readonly parent_id?: string;
  readonly [extra: string]: unknown;
}

/** What a worker knows when it stores a state. */
export interface StoreRequest {
  readonly status: string;
  /** The value, or for RETRY/FAILURE/REVOKED the exception dict (`{exc_type, exc_message, exc_module}`). */
  readonly result: unknown;
  readonly traceback?: string | null;
  /** Tasks this one published; Python writes null when storing outside a worker. @default [] */
  readonly children?: readonly unknown[] | null;
  /** The request's `group` header. */
  readonly groupId?: string | null | undefined;
  readonly parentId?: string | null | undefined;
}

export type { ChordCallbackSender, SignatureJson } from '../app/broker.js';
import type { ChordCallbackSender, SignatureJson } from '../app/broker.js';

/** The chord part of a finished header task's request. */
export interface ChordPartRequest {
  readonly id: string;
  /** The `group` header. */
  readonly group: string | null | undefined;
  /** The `group_index` header; null sorts last, as Python's '+inf'. */
  readonly groupIndex: number | null | undefined;
  /** `embed.chord`: the callback signature. */
  readonly chord: SignatureJson | null | undefined;
}

export interface RedisResultBackendOptions {
  readonly url: string;
  readonly log?: RedisLog;
  /** Seconds results live (`result_expires`); null keeps them forever. @default 86400 */
  readonly expires?: number | null;
  /** `result_backend_transport_options.result_chord_ordered`: the join is a zset ordered by group_index. @default true */
  readonly chordOrdered?: boolean;
  /** Prefix of the connection names `CLIENT LIST` shows (`<prefix>-results`, `<prefix>-results-sub`). @default 'celery-gen' */
  readonly connectionName?: string;
  /** Store results in kombu 5.3+ typed JSON envelopes (the app's `typedJson`). @default false */
  readonly typedJson?: boolean;
}

export type MetaListener = (meta: RedisResultMeta) => void;

/** `datetime.utcnow().isoformat()`: naive UTC, microseconds only when non-zero, as Celery 5.2 writes `date_done`. */
export function pythonUtcNow(nowMs: number = performance.timeOrigin + performance.now()): string {
  const wholeMs = Math.floor(nowMs);
  const base = new Date(wholeMs).toISOString().slice(0, 19);
  const micros = Math.floor(nowMs * 1000) % 1_000_000;
  return micros === 0 ? base : `${base}.${String(micros).padStart(6, '0')}`;
}

/** Builds the stored meta in Celery's key order (`_get_result_meta` + `meta['task_id']`). */
export function buildResultMeta(taskId: string, request: StoreRequest, now: string = pythonUtcNow()): RedisResultMeta {
  const meta: Record<string, unknown> = {
    status: request.status,
    result: request.result,
    traceback: request.traceback ?? null,
    children: request.children === undefined ? [] : request.children,
    date_done: READY_STATES.has(request.status) ? now : null,
  };
  if (request.groupId) meta.group_id = request.groupId;
  if (request.parentId) meta.parent_id = request.parentId;
  meta.task_id = taskId;
  return meta as unknown as RedisResultMeta;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asMeta(value: unknown, taskId: string): RedisResultMeta {
  if (!isRecord(value) || typeof value.status !== 'string') throw new RedisTransportError('BAD_META', `result meta of ${taskId} is not a Celery meta object`);
  return { traceback: null, children: [], date_done: null, task_id: taskId, ...value } as unknown as RedisResultMeta;
}

export class RedisResultBackend {
  readonly endpoint: RedisEndpoint;
  readonly expires: number | null;
  readonly chordOrdered: boolean;
  readonly #log: RedisLog;
  readonly #name: string;
  readonly #typedJson: boolean;
  #client: Redis | undefined;
  #subscriber: Redis | undefined;
  /** channel → listeners; a channel is subscribed while it has any. */
  readonly #listeners = new Map<string, Set<MetaListener>>();
  readonly #subscribing = new Map<string, Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(options: RedisResultBackendOptions) {
    this.endpoint = parseRedisUrl(options.url);
    this.#log = options.log ?? SILENT_REDIS_LOG;
    this.expires = options.expires === undefined ? 86_400 : options.expires;
    this.chordOrdered = options.chordOrdered ?? true;
    this.#name = options.connectionName ?? 'celery-gen';
    this.#typedJson = options.typedJson ?? false;
  }

  get redactedUrl(): string {
    return this.endpoint.redacted;
  }

  get client(): Redis {
    if (this.#closing) throw new RedisTransportError('CLOSED', 'the Redis result backend is closed');
    this.#client ??= createRedisClient(this.endpoint, { name: `${this.#name}-results`, log: this.#log, autoPipeline: true });
    return this.#client;
  }

  keyForTask(taskId: string): string {
    return `${TASK_KEY_PREFIX}${taskId}`;
  }

  keyForGroup(groupId: string, suffix = ''): string {
    return `${GROUP_KEY_PREFIX}${groupId}${suffix}`;
  }

  /** SETEX (or SET without expiry) and PUBLISH on the key's channel, in one transaction, as `RedisBackend._set`. */
  async set(key: string, value: string): Promise<void> {
    if (value.length > MAX_VALUE_SIZE) throw new RedisTransportError('VALUE_TOO_LARGE', `value too large for Redis backend (${key})`);
    const multi = this.client.multi();
    if (this.expires) multi.setex(key, this.expires, value);
    else multi.set(key, value);
    multi.publish(key, value);
    await multi.exec();
  }

  /**
   * Stores a task state as Celery 5.2's `_store_result`: never over a stored SUCCESS (a
   * redelivered task must not overwrite its first result). Returns whether it was written.
   */
  async store(taskId: string, request: StoreRequest): Promise<boolean> {
    const current = await this.getMeta(taskId);
    if (current?.status === 'SUCCESS') return false;
    await this.set(this.keyForTask(taskId), encodeJson(buildResultMeta(taskId, request), { typed: this.#typedJson }));
    return true;
  }

  /** The stored meta, or null while PENDING (nothing stored). */
  async getMeta(taskId: string): Promise<RedisResultMeta | null> {
    const text = await this.client.get(this.keyForTask(taskId));
    return text === null ? null : asMeta(decodeJson(text), taskId);
  }

  /** Deletes a stored result (`AsyncResult.forget`). */
  async forget(taskId: string): Promise<void> {
    await this.client.del(this.keyForTask(taskId));
  }

  #subscriberClient(): Redis {
    if (this.#closing) throw new RedisTransportError('CLOSED', 'the Redis result backend is closed');
    if (!this.#subscriber) {
      const subscriber = createRedisClient(this.endpoint, { name: `${this.#name}-results-sub`, log: this.#log });
      let connectedOnce = false;
      subscriber.on('message', (channel: string, text: string) => this.#dispatch(channel, text));
      subscriber.on('ready', () => {
        // States published while we were disconnected are gone from pub/sub; read them
        // back, as Python's ResultConsumer._reconnect_pubsub does with MGET.
        if (connectedOnce) void this.#catchUp();
        connectedOnce = true;
      });
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }

  #dispatch(channel: string, text: string): void {
    const listeners = this.#listeners.get(channel);
    if (!listeners || listeners.size === 0) return;
    let meta: RedisResultMeta;
    try {
      meta = asMeta(decodeJson(text), channel.slice(TASK_KEY_PREFIX.length));
    } catch (error) {
      this.#log.warn('ignoring an undecodable result message', { channel, error: messageOf(error) });
      return;
    }
    for (const listener of [...listeners]) {
      try {
        listener(meta);
      } catch (error) {
        this.#log.error('a result listener threw', { channel, error: messageOf(error) });
      }
    }
  }

  async #catchUp(): Promise<void> {
    const channels = [...this.#listeners.keys()];
    if (channels.length === 0) return;
    try {
      const values = await this.client.mget(...channels);
      values.forEach((text, i) => {
        if (text !== null) this.#dispatch(channels[i]!, text);
      });
    } catch (error) {
      this.#log.warn('reading results after a reconnect failed', { error: messageOf(error) });
    }
  }

  /**
   * Calls `listener` with every state stored for the task from now on, and with the one
   * already stored (SUBSCRIBE first, then GET, so nothing falls between). Returns a
   * function that stops watching. Resolves once subscribed.
   */
  async watch(taskId: string, listener: MetaListener): Promise<() => void> {
    const channel = this.keyForTask(taskId);
    let listeners = this.#listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
    }
    listeners.add(listener);
    const stop = (): void => {
      const set = this.#listeners.get(channel);
      if (!set) return;
      set.delete(listener);
      if (set.size === 0) {
        this.#listeners.delete(channel);
        if (this.#subscriber && !this.#closing) {
          this.#subscriber.unsubscribe(channel).catch((error: unknown) => this.#log.debug('unsubscribe failed', { channel, error: messageOf(error) }));
        }
      }
    };
    try {
      let subscribing = this.#subscribing.get(channel);
      if (!subscribing) {
        subscribing = this.#subscriberClient()
          .subscribe(channel)
          .then(
            () => this.#subscribing.delete(channel),
            (error: unknown) => {
              this.#subscribing.delete(channel);
              throw error;
            },
          );
        this.#subscribing.set(channel, subscribing);
      }
      await subscribing;
      const stored = await this.client.get(channel);
      if (stored !== null && listeners.has(listener)) {
        try {
          listener(asMeta(decodeJson(stored), taskId));
        } catch (error) {
          this.#log.error('a result listener threw', { channel, error: messageOf(error) });
        }
      }
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  /**
   * Resolves with the task's meta once it is READY (SUCCESS, FAILURE, REVOKED). `onState`
   * sees every state on the way (STARTED, RETRY). Rejects with a TIMEOUT error after
   * `timeoutMs` (default: waits forever).
   */
  waitForMeta(taskId: string, options: { timeoutMs?: number; onState?: MetaListener } = {}): Promise<RedisResultMeta> {
    return new Promise<RedisResultMeta>((resolve, reject) => {
      let stop: (() => void) | undefined;
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        stop?.();
        fn();
      };
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => finish(() => reject(new RedisTransportError('TIMEOUT', `task ${taskId} did not finish within ${options.timeoutMs} ms`))), options.timeoutMs);
      }
      this.watch(taskId, (meta) => {
        options.onState?.(meta);
        if (READY_STATES.has(meta.status)) finish(() => resolve(meta));
      }).then(
        (unwatch) => {
          stop = unwatch;
          if (done) unwatch();
        },
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  /** Metas of several tasks at once (MGET); null where nothing is stored yet. */
  async getMany(taskIds: readonly string[]): Promise<(RedisResultMeta | null)[]> {
    if (taskIds.length === 0) return [];
    const values = await this.client.mget(...taskIds.map((id) => this.keyForTask(id)));
    return values.map((text, i) => (text === null ? null : asMeta(decodeJson(text), taskIds[i]!)));
  }

  /** Waits for every task of a group; the metas in the given order. */
  async waitForAll(taskIds: readonly string[], options: { timeoutMs?: number } = {}): Promise<RedisResultMeta[]> {
    return Promise.all(taskIds.map((id) => this.waitForMeta(id, options)));
  }

  /** `GroupResult.save()`: `{"result": [[group_id, null], [[[id, null], null], ...]]}`. */
  async saveGroup(groupId: string, taskIds: readonly string[]): Promise<void> {
    const tuple = [[groupId, null], taskIds.map((id) => [[id, null], null])];
    await this.set(this.keyForGroup(groupId), encodeJson({ result: tuple }));
  }

  /** `GroupResult.restore()`: the member task ids of a saved group, or null. */
  async restoreGroup(groupId: string): Promise<string[] | null> {
    const text = await this.client.get(this.keyForGroup(groupId));
    if (text === null) return null;
    const value = decodeJson(text);
    const tuple = isRecord(value) ? value.result : undefined;
    if (!Array.isArray(tuple) || !Array.isArray(tuple[1])) throw new RedisTransportError('BAD_META', `saved group ${groupId} is not a GroupResult tuple`);
    return (tuple[1] as unknown[]).map((child) => {
      const id = Array.isArray(child) && Array.isArray(child[0]) ? child[0][0] : undefined;
      if (typeof id !== 'string') throw new RedisTransportError('BAD_META', `saved group ${groupId} holds a member that is not a result tuple`);
      return id;
    });
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.client.del(this.keyForGroup(groupId));
  }

  /** `set_chord_size`: what a chord's sender writes before publishing the header. */
  async setChordSize(groupId: string, size: number): Promise<void> {
    await this.set(this.keyForGroup(groupId, '.s'), String(size));
  }

  /** `add_to_chord`: a task that joins the chord at run time (`self.add_to_chord`) raises the total. */
  async addToChord(groupId: string): Promise<void> {
    await this.client.incr(this.keyForGroup(groupId, '.t'));
  }

  /**
   * `RedisBackend.on_chord_part_return`: records a finished header task and, when it is
   * the last one, sends the callback with every header result in group_index order, or
   * marks the callback FAILED with a ChordError when a header task failed.
   * `result` is the encoded result (value, or exception dict for exception states).
   * Returns 'sent' | 'failed' when this call completed the chord, else 'waiting'.
   */
  async onChordPartReturn(request: ChordPartRequest, state: string, result: unknown, sendCallback: ChordCallbackSender): Promise<'waiting' | 'sent' | 'failed' | 'ignored'> {
    const gid = request.group;
    if (!gid || !request.id) return 'ignored';
    const jkey = this.keyForGroup(gid, '.j');
    const tkey = this.keyForGroup(gid, '.t');
    const skey = this.keyForGroup(gid, '.s');
    const encoded = encodeJson([1, request.id, state, result]);
    const multi = this.client.multi();
    if (this.chordOrdered) multi.zadd(jkey, request.groupIndex ?? '+inf', encoded).zcount(jkey, '-inf', '+inf');
    else multi.rpush(jkey, encoded).llen(jkey);
    multi.get(tkey).get(skey);
    if (this.expires) multi.expire(jkey, this.expires).expire(tkey, this.expires).expire(skey, this.expires);
    const replies = (await multi.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const readyCount = Number(replies[1]?.[1] ?? 0);
    const totalDiff = Number(replies[2]?.[1] ?? 0) || 0;
    const sizeText = replies[3]?.[1];
    if (sizeText === null || sizeText === undefined || sizeText === '') return 'waiting';
    const callback = request.chord;
    const total = Number(sizeText) + totalDiff;
    if (readyCount !== total) return 'waiting';
    if (!callback) {
      this.#log.error('chord header finished but the request carries no callback signature', { group: gid });
      return 'ignored';
    }
    try {
      const entries = this.chordOrdered ? await this.client.zrange(jkey, 0, -1) : await this.client.lrange(jkey, 0, total);
      const results: unknown[] = [];
      for (const entry of entries) {
        const [, tid, partState, value] = decodeJson(entry) as [number, string, string, unknown];
        if (PROPAGATE_STATES.has(partState)) {
          return await this.#failChord(callback, `Dependency ${tid} raised ${describeException(value)}`);
        }
        results.push(value);
      }
      try {
        await sendCallback(callback, results);
      } catch (error) {
        this.#log.error('chord callback could not be sent', { group: gid, error: messageOf(error) });
        return await this.#failChord(callback, `Callback error: ${messageOf(error)}`);
      }
      return 'sent';
    } finally {
      await this.client.multi().del(jkey).del(tkey).del(skey).exec();
    }
  }

  /** `chord_error_from_stack`: the callback's result becomes FAILURE with a `celery.exceptions.ChordError`. */
  async #failChord(callback: SignatureJson, message: string): Promise<'failed'> {
    const callbackId = callback.options?.task_id;
    this.#log.error('chord failed', { callback: callback.task, reason: message });
    if (typeof callbackId === 'string') {
      await this.store(callbackId, {
        status: 'FAILURE',
        result: { exc_type: 'ChordError', exc_message: [message], exc_module: 'celery.exceptions' },
        traceback: null,
      });
    }
    return 'failed';
  }

  /** Closes both connections; pending watches end. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      const clients = [this.#subscriber, this.#client].filter((c): c is Redis => c !== undefined);
      this.#subscriber = undefined;
      this.#client = undefined;
      await Promise.all(clients.map((c) => closeRedisClient(c, this.#log)));
    })();
    return this.#closing;
  }
}

/** Python's repr of the rebuilt exception, as ChordError's message quotes it: `ValueError('bad value')`. */
function describeException(value: unknown): string {
  if (isRecord(value) && typeof value.exc_type === 'string') {
    const args = Array.isArray(value.exc_message) ? value.exc_message : [value.exc_message];
    return excRepr(value.exc_type, args);
  }
  return encodeJson(value);
}
