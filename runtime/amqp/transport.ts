/**
 * The AMQP transport: one amqplib connection, its channels, queue declarations and
 * confirmed publishing. It knows nothing about Celery messages; client, results and
 * worker sit on top of it.
 *
 * Recovery (issue 5): once a connection was open, an unexpected close starts a reconnect
 * loop with capped exponential backoff and jitter that runs until it succeeds or close()
 * is called. Meanwhile `connect()` (and so `createChannel()` and `publishChannel()`) waits
 * for it; callers bound that wait themselves (the client's publish timeout). The very first
 * connection is not retried: a wrong URL or password should fail at once.
 *
 * Events (see TransportEvents): `connect` on every open connection, `close` when one is
 * lost unexpectedly, `reconnecting` before each attempt, `reconnect` when one succeeded,
 * `blocked`/`unblocked`, and `error`. `error` is emitted only when someone listens (an
 * unobserved EventEmitter 'error' would crash the process); every error is logged either
 * way, and no event, log line or error message carries a password.
 */
import { EventEmitter } from 'node:events';
// Must run before amqplib loads: it gives amqplib's header decoder py-amqp's int64 tag `L`.
import { installedBeforeAmqplib } from './amqplib-codec.js';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { CeleryGenError } from '../protocol/errors.js';
import { type Logger, messageOf, redactSecrets } from '../observability/logger.js';
import { parseBrokerUrls, UrlRotation } from '../protocol/broker-urls.js';

export const DEFAULT_BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672//';

/** The URL with its password replaced by `***`, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return redactSecrets(url);
  }
}

/** amqplib's publish options, named here so the publisher needs no amqplib import of its own. */
export type PublishOptions = Options.Publish;
/** The confirm channel the publisher sends on (so client/ needs no amqplib types). */
export type PublishChannel = ConfirmChannel;

/** A broker connection or channel failure; its message never contains a password. */
export class TransportError extends CeleryGenError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, redactSecrets(message), options);
  }
}

/** TLS settings for `amqps://` URLs, passed to Node's `tls.connect` (PEM strings or Buffers). */
export interface TlsOptions {
  /** Certificate authorities to trust instead of Node's bundled ones (a self-signed broker's CA). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate, for brokers that verify peers (`ssl_options.verify = verify_peer`). */
  readonly cert?: string | Buffer;
  /** The client certificate's private key. */
  readonly key?: string | Buffer;
  readonly passphrase?: string;
  /** Name checked against the broker's certificate. @default the URL's host */
  readonly servername?: string;
  /** Refuse brokers whose certificate does not verify. Turn off only for testing. @default true */
  readonly rejectUnauthorized?: boolean;
}

/** Backoff of the reconnect loop: attempt n waits a random time in [d/2, d], d = min(maxDelay, initialDelay * factor^(n-1)). */
export interface ReconnectOptions {
  /** @default 250 (ms) */
  readonly initialDelay?: number;
  /** @default 10000 (ms) */
  readonly maxDelay?: number;
  /** @default 2 */
  readonly factor?: number;
}

/** The events a Transport emits, with their arguments. */
/** Every event names the broker node it concerns by its redacted URL (with a URL list: which one is current). */
export interface TransportEvents {
  connect: [info: { url: string }];
  close: [error: unknown, info: { url: string }];
  /** `url` is the one this attempt will try. */
  reconnecting: [info: { attempt: number; delayMs: number; url: string; error?: TransportError }];
  reconnect: [info: { attempts: number; downMs: number; url: string }];
  blocked: [reason: unknown];
  unblocked: [];
  error: [error: TransportError];
}

export interface TransportOptions {
  /**
   * One URL, a `;`-separated failover list (Celery's `broker_url`) or an array. With a list,
   * the first connect tries each URL once in order, and every lost connection or failed
   * reconnect attempt moves to the next one, round-robin.
   */
  readonly url: string | readonly string[];
  readonly logger: Logger;
  /** AMQP heartbeat in seconds, unless the URL sets `?heartbeat=`. @default 60 (RabbitMQ's proposal) */
  readonly heartbeat?: number;
  /** Shown in RabbitMQ's management UI. @default `celery-gen <pid>` */
  readonly connectionName?: string;
  /** For `amqps://` URLs. */
  readonly tls?: TlsOptions;
  readonly reconnect?: ReconnectOptions;
}

export interface QueueDeclaration {
  readonly durable: boolean;
  readonly autoDelete?: boolean;
  readonly exclusive?: boolean;
  readonly arguments?: Readonly<Record<string, unknown>>;
}

/** Queues as Python Celery declares them by default: durable, no arguments (protocol.md §1.1). */
export const CELERY_QUEUE: QueueDeclaration = { durable: true, autoDelete: false };

/** The delay before reconnect attempt `attempt` (1-based): capped exponential, with jitter in its upper half. */
export function backoffDelay(attempt: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelay ?? 250;
  const max = options.maxDelay ?? 10_000;
  const factor = options.factor ?? 2;
  const ceiling = Math.min(max, initial * factor ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class Transport extends EventEmitter<TransportEvents> {
  readonly #urls: UrlRotation;
  readonly #logger: Logger;
  readonly #heartbeat: number;
  readonly #connectionName: string | undefined;
  readonly #tls: TlsOptions | undefined;
  readonly #reconnectOptions: ReconnectOptions;
  #connection: Promise<ChannelModel> | undefined;
  /** Set once a connection was open: from then on a lost connection is re-opened, not given up. */
  #everConnected = false;
  #reconnecting: Promise<ChannelModel> | undefined;
  #wakeReconnect: (() => void) | undefined;
  /** Why a channel was closed by the broker (a channel closed without one went down with its connection). */
  readonly #channelErrors = new WeakMap<Channel, unknown>();
  /** Mandatory publishes awaiting their confirm, per confirm channel, in publish order (basic.return precedes the confirm). */
  readonly #unconfirmed = new WeakMap<Channel, PendingPublish[]>();
  #publishChannel: Promise<ConfirmChannel> | undefined;
  #openPublishChannel: ConfirmChannel | undefined;
  readonly #channels = new Set<Channel>();
  /** Publish channels closed by discardPublishChannel (their pending publishes fail as CONNECTION_LOST, but say why). */
  readonly #discarded = new WeakSet<Channel>();
  readonly #declared = new WeakMap<Channel, Map<string, Promise<void>>>();
  readonly #declaredDone = new WeakMap<Channel, Set<string>>();
  #closing: Promise<void> | undefined;

  constructor(options: TransportOptions) {
    super();
    this.#urls = new UrlRotation(parseBrokerUrls(options.url));
    this.#logger = options.logger;
    this.#heartbeat = options.heartbeat ?? 60;
    this.#connectionName = options.connectionName;
    this.#tls = options.tls;
    this.#reconnectOptions = options.reconnect ?? {};
    if (!installedBeforeAmqplib) {
      this.#logger.warn(
        "amqplib was loaded before celery-gen: messages whose headers carry integers beyond int32 (Python's `L`) will close the connection; import 'celery-gen' before 'amqplib'",
      );
    }
  }

  /** The URL in use (or tried next), password redacted. */
  get redactedUrl(): string {
    return redactUrl(this.#urls.current);
  }

  /** Every URL of the failover list, passwords redacted. */
  get redactedUrls(): string[] {
    return this.#urls.urls.map(redactUrl);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** True while a lost connection is being re-opened. */
  get reconnecting(): boolean {
    return this.#reconnecting !== undefined;
  }

  /**
   * The open connection, opening it on first use. After a connection was lost, waits for
   * the reconnect loop (for at most `timeoutMs` when given: then rejects with DISCONNECTED).
   */
  connect(options: { timeoutMs?: number } = {}): Promise<ChannelModel> {
    if (this.#closing) return Promise.reject(new TransportError('CLOSED', 'transport is closed'));
    if (this.#connection) return this.#connection;
    if (this.#everConnected) {
      const reconnecting = this.#reconnect();
      return options.timeoutMs === undefined ? reconnecting : this.#bounded(reconnecting, options.timeoutMs);
    }
    const opening = this.#openFirst();
    this.#connection = opening;
    opening.catch(() => {
      if (this.#connection === opening) this.#connection = undefined;
    });
    return opening;
  }

  #bounded(reconnecting: Promise<ChannelModel>, timeoutMs: number): Promise<ChannelModel> {
    return new Promise<ChannelModel>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new TransportError('DISCONNECTED', `the connection to ${this.redactedUrl} is lost and was not re-established within ${timeoutMs} ms`)),
        timeoutMs,
      );
      reconnecting.then(
        (connection) => {
          clearTimeout(timer);
          resolve(connection);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** The reconnect loop: shared by every caller, ends when a connection opens or close() is called. */
  #reconnect(): Promise<ChannelModel> {
    if (this.#reconnecting) return this.#reconnecting;
    const downSince = Date.now();
    const loop = (async (): Promise<ChannelModel> => {
      let lastError: TransportError | undefined;
      for (let attempt = 1; ; attempt++) {
        if (this.#closing) throw new TransportError('CLOSED', 'transport is closed');
        const delayMs = backoffDelay(attempt, this.#reconnectOptions);
        this.emit('reconnecting', { attempt, delayMs, url: this.redactedUrl, ...(lastError ? { error: lastError } : {}) });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.#wakeReconnect = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wakeReconnect = undefined;
        if (this.#closing) throw new TransportError('CLOSED', 'transport is closed');
        try {
          const connection = await this.#open();
          if (this.#closing) {
            await connection.close().catch(() => undefined);
            throw new TransportError('CLOSED', 'transport is closed');
          }
          this.#connection = Promise.resolve(connection);
          const downMs = Date.now() - downSince;
          this.#logger.info('reconnected to the broker', { url: this.redactedUrl, attempts: attempt, downMs });
          this.emit('reconnect', { attempts: attempt, downMs, url: this.redactedUrl });
          return connection;
        } catch (error) {
          if (error instanceof TransportError && error.code === 'CLOSED') throw error;
          lastError = error instanceof TransportError ? error : new TransportError('CONNECT_FAILED', messageOf(error), { cause: error });
          const failed = this.redactedUrl;
          // Round-robin, as kombu's failover: the next attempt tries the next node.
          this.#urls.advance();
          this.#logger.warn(`reconnect attempt ${attempt} failed; retrying with backoff`, { url: failed, next: this.redactedUrl, error: lastError.message });
        }
      }
    })();
    const shared = loop.finally(() => {
      if (this.#reconnecting === shared) this.#reconnecting = undefined;
    });
    // Waiters get the rejection; the loop itself must not surface as an unhandled one.
    shared.catch(() => undefined);
    this.#reconnecting = shared;
    return shared;
  }

  /** The first connection: each URL of the list once, in order; fails at once when none answers (a wrong URL or password). */
  async #openFirst(): Promise<ChannelModel> {
    let lastError: unknown;
    for (let tried = 0; tried < this.#urls.urls.length; tried++) {
      try {
        return await this.#open();
      } catch (error) {
        lastError = error;
        if (this.#urls.urls.length > 1) this.#logger.warn('cannot connect; trying the next broker URL', { url: this.redactedUrl, error: messageOf(error) });
        this.#urls.advance();
      }
    }
    throw lastError;
  }

  async #open(): Promise<ChannelModel> {
    const url = new URL(this.#urls.current);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.#heartbeat));
    let connection: ChannelModel;
    try {
      // noDelay: without it Nagle holds small frames back and every round trip costs ~44 ms.
      connection = await amqp.connect(url.toString(), {
        noDelay: true,
        clientProperties: { connection_name: this.#connectionName ?? `celery-gen ${process.pid}` },
        ...(this.#tls ? tlsSocketOptions(this.#tls) : {}),
      });
    } catch (error) {
      throw new TransportError('CONNECT_FAILED', `cannot connect to ${this.redactedUrl}: ${messageOf(error)}`, { cause: error });
    }
    this.#everConnected = true;
    coalesceWrites(connection);
    connection.on('error', (error: unknown) => this.#report('connection error', error));
    connection.on('blocked', (reason: unknown) => {
      this.#logger.warn('broker blocked the connection', { reason: String(reason) });
      this.emit('blocked', reason);
    });
    connection.on('unblocked', () => this.emit('unblocked'));
    connection.on('close', (error: unknown) => {
      this.#connection = undefined;
      this.#publishChannel = undefined;
      this.#openPublishChannel = undefined;
      this.#channels.clear();
      if (this.#closing) return;
      const lost = this.redactedUrl;
      // kombu's failover moves on at every loss: the node that dropped us is tried last.
      this.#urls.advance();
      this.#logger.warn('broker connection lost; reconnecting', { url: lost, next: this.redactedUrl, reason: error ? messageOf(error) : 'no reason given' });
      this.emit('close', error, { url: lost });
      void this.#reconnect();
    });
    this.#logger.debug('connected', { url: this.redactedUrl });
    this.emit('connect', { url: this.redactedUrl });
    return connection;
  }

  /** A new channel; its `error` events are logged, never thrown at the process. */
  async createChannel(): Promise<Channel> {
    return this.#track(await (await this.connect()).createChannel());
  }

  async createConfirmChannel(): Promise<ConfirmChannel> {
    return this.#track(await (await this.connect()).createConfirmChannel());
  }

  #track<C extends Channel>(channel: C): C {
    this.#channels.add(channel);
    channel.on('error', (error: unknown) => {
      this.#channelErrors.set(channel, error);
      this.#report('channel error', error);
    });
    channel.on('close', () => this.#channels.delete(channel));
    channel.on('return', (message: Message) => this.#onReturn(channel, message));
    return channel;
  }

  /**
   * True when `channel` closed because its connection went down (or was closed by us), not
   * because the broker refused something on it: work on it may be retried on a new one.
   */
  lostWithConnection(channel: Channel): boolean {
    return !this.#channelErrors.has(channel);
  }

  /** A mandatory message no queue took: marks the oldest matching unconfirmed publish, whose confirm follows. */
  #onReturn(channel: Channel, message: Message): void {
    const { exchange, routingKey, replyCode, replyText } = message.fields as Message['fields'] & { replyCode?: number; replyText?: string };
    const correlationId = message.properties.correlationId as string | undefined;
    const pending = this.#unconfirmed.get(channel);
    const match = pending?.find((p) => p.returned === undefined && p.exchange === exchange && p.routingKey === routingKey && p.correlationId === correlationId);
    if (match) match.returned = `${replyCode ?? 312} ${replyText ?? 'NO_ROUTE'}`;
    else this.#logger.warn('the broker returned a message that no queue took', { exchange, routingKey, replyText });
  }

  /** The shared publisher-confirm channel used by clients. */
  publishChannel(): Promise<ConfirmChannel> {
    if (!this.#publishChannel) {
      const opening = this.createConfirmChannel().then((channel) => {
        channel.on('close', () => {
          if (this.#publishChannel === opening) this.#publishChannel = undefined;
          if (this.#openPublishChannel === channel) this.#openPublishChannel = undefined;
        });
        if (this.#publishChannel === opening) this.#openPublishChannel = channel;
        return channel;
      });
      opening.catch(() => {
        if (this.#publishChannel === opening) this.#publishChannel = undefined;
      });
      this.#publishChannel = opening;
    }
    return this.#publishChannel;
  }

  /**
   * Stops using `channel` for publishing and closes it (its unconfirmed publishes then fail
   * with CONNECTION_LOST and are sent again). After a nack: RabbitMQ before 3.12.5 keeps
   * nacking every publish on a channel that first published while a quorum queue's record
   * still named a dead leader; a fresh channel works (see docs/clusters.md).
   */
  discardPublishChannel(channel: ConfirmChannel): void {
    if (this.#openPublishChannel === channel) {
      this.#openPublishChannel = undefined;
      this.#publishChannel = undefined;
    }
    this.#discarded.add(channel);
    channel.close().catch(() => undefined);
  }

  /** The publish channel when it is open, without a promise hop (the hot path of sendTask). */
  get openPublishChannel(): ConfirmChannel | undefined {
    return this.#openPublishChannel;
  }

  /** True once `name` was declared on `channel` (then assertQueue has nothing to wait for). */
  isDeclared(channel: Channel, name: string): boolean {
    return this.#declaredDone.get(channel)?.has(name) ?? false;
  }

  /**
   * Declares a queue once per channel lifetime: repeated calls share one round trip.
   * A failed declaration closes the channel in AMQP, so it is not remembered.
   */
  assertQueue(channel: Channel, name: string, declaration: QueueDeclaration = CELERY_QUEUE): Promise<void> {
    let declared = this.#declared.get(channel);
    if (!declared) {
      declared = new Map();
      this.#declared.set(channel, declared);
    }
    const known = declared.get(name);
    if (known) return known;
    const options: Options.AssertQueue = {
      durable: declaration.durable,
      autoDelete: declaration.autoDelete ?? false,
      exclusive: declaration.exclusive ?? false,
    };
    if (declaration.arguments) options.arguments = { ...declaration.arguments };
    const pending = channel.assertQueue(name, options).then(
      () => {
        let done = this.#declaredDone.get(channel);
        if (!done) this.#declaredDone.set(channel, (done = new Set()));
        done.add(name);
      },
      (error: unknown) => {
        declared.delete(name);
        throw new TransportError('DECLARE_FAILED', `cannot declare queue ${name}: ${messageOf(error)}`, { cause: error });
      },
    );
    declared.set(name, pending);
    return pending;
  }

  /**
   * Publishes on a confirm channel and resolves when the broker confirmed the message.
   * With `mandatory` (the client's default) a message that no queue takes is returned by the
   * broker before its confirm, and the promise rejects with UNROUTABLE instead.
   * Rejections carry a code: CONNECTION_LOST (the connection went down before the confirm;
   * the message may or may not have arrived, so retrying may duplicate it), UNROUTABLE,
   * PUBLISH_NACKED, or PUBLISH_FAILED (the broker closed the channel, e.g. no such exchange).
   * amqplib buffers when the socket is busy (publish() returns false) and never drops;
   * callers bound memory by awaiting confirms.
   */
  publish(channel: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    const target = routingKey || exchange;
    return new Promise<void>((resolve, reject) => {
      let pending: PendingPublish | undefined;
      let queue: PendingPublish[] | undefined;
      if (options.mandatory) {
        queue = this.#unconfirmed.get(channel);
        if (!queue) this.#unconfirmed.set(channel, (queue = []));
        pending = { exchange, routingKey, correlationId: options.correlationId, returned: undefined };
        queue.push(pending);
      }
      try {
        channel.publish(exchange, routingKey, body, options, (error: unknown) => {
          if (pending && queue) {
            const at = queue[0] === pending ? 0 : queue.indexOf(pending);
            if (at === 0) queue.shift();
            else if (at > 0) queue.splice(at, 1);
          }
          if (error) reject(this.#publishError(channel, target, error));
          else if (pending?.returned !== undefined) {
            reject(new TransportError('UNROUTABLE', `no queue took the message to exchange '${exchange}' with routing key '${routingKey}' (${pending.returned}); it was not delivered`));
          } else resolve();
        });
      } catch (error) {
        if (pending && queue) queue.splice(queue.indexOf(pending), 1);
        reject(this.#publishError(channel, target, error));
      }
    });
  }

  #publishError(channel: Channel, target: string, error: unknown): TransportError {
    const message = messageOf(error);
    if (/nack/i.test(message)) return new TransportError('PUBLISH_NACKED', `broker did not confirm the message to ${target}: ${message}`);
    const refusal = this.#channelErrors.get(channel);
    if (refusal !== undefined) return new TransportError('PUBLISH_FAILED', `cannot publish to ${target}: ${messageOf(refusal)}`, { cause: refusal });
    if (this.#discarded.has(channel)) {
      return new TransportError('CONNECTION_LOST', `the channel was replaced after a nack before the broker confirmed the message to ${target}`, { cause: error });
    }
    return new TransportError('CONNECTION_LOST', `the connection to ${this.redactedUrl} was lost before the broker confirmed the message to ${target}`, { cause: error });
  }

  /** Closes every channel, then the connection. Idempotent: later calls share the first. */
  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
    this.#wakeReconnect?.();
    const connecting = this.#connection;
    this.#connection = undefined;
    this.#publishChannel = undefined;
    this.#openPublishChannel = undefined;
    if (!connecting) return;
    let connection: ChannelModel;
    try {
      connection = await connecting;
    } catch {
      return; // never opened: nothing to close
    }
    const channels = [...this.#channels];
    this.#channels.clear();
    await Promise.allSettled(channels.map((channel) => channel.close()));
    try {
      await connection.close();
    } catch (error) {
      this.#logger.debug('connection close failed', { error: messageOf(error) });
    }
    this.#logger.debug('closed', { url: this.redactedUrl });
  }

  #report(what: string, error: unknown): void {
    const wrapped = error instanceof TransportError ? error : new TransportError('BROKER_ERROR', `${what}: ${messageOf(error)}`, { cause: error });
    this.#logger.error(wrapped.message);
    if (this.listenerCount('error') > 0) this.emit('error', wrapped);
  }
}

interface PendingPublish {
  readonly exchange: string;
  readonly routingKey: string;
  readonly correlationId: string | undefined;
  /** `<reply code> <reply text>` once the broker returned the message. */
  returned: string | undefined;
}

/** Only the fields set, so Node's TLS defaults stay in force for the rest. */
function tlsSocketOptions(tls: TlsOptions): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const key of ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'] as const) {
    if (tls[key] !== undefined) options[key] = tls[key];
  }
  return options;
}

/**
 * amqplib writes every frame (each ack, each publish) to the socket on its own, one
 * syscall each. Corking the socket on the first write of a tick and uncorking on the next
 * tick sends everything written in that tick in one writev, without Nagle's delay.
 */
function coalesceWrites(model: ChannelModel): void {
  const socket = (model.connection as unknown as { stream?: { write?: unknown; cork?: () => void; uncork?: () => void } }).stream;
  if (!socket || typeof socket.write !== 'function' || typeof socket.cork !== 'function' || typeof socket.uncork !== 'function') return;
  const write = socket.write as (...args: unknown[]) => boolean;
  const cork = socket.cork.bind(socket);
  const uncork = socket.uncork.bind(socket);
  let corked = false;
  const flush = (): void => {
    corked = false;
    uncork();
  };
  socket.write = function coalescedWrite(this: unknown, ...args: unknown[]): boolean {
    if (!corked) {
      corked = true;
      cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  };
}
