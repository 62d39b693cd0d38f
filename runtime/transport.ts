/**
 * The AMQP transport: one amqplib connection, its channels, queue declarations and
 * confirmed publishing. It knows nothing about Celery messages; client, results and
 * worker sit on top of it.
 *
 * Connection lifecycle is observable through events (`connect`, `close`, `error`,
 * `blocked`, `unblocked`) so reconnect with backoff (issue 5) can be layered on without
 * changing callers: after an unexpected close the next `connect()` opens a new connection.
 * `error` is emitted only when someone listens (an unobserved EventEmitter 'error' would
 * crash the process); every error is logged either way.
 */
import { EventEmitter } from 'node:events';
// Must run before amqplib loads: it gives amqplib's header decoder py-amqp's int64 tag `L`.
import { installedBeforeAmqplib } from './amqplib-codec.js';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { CeleryGenError } from './errors.js';
import { type Logger, redactSecrets } from './logger.js';

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

/** A broker connection or channel failure; its message never contains a password. */
export class TransportError extends CeleryGenError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, redactSecrets(message), options);
  }
}

export interface TransportOptions {
  readonly url: string;
  readonly logger: Logger;
  /** AMQP heartbeat in seconds, unless the URL sets `?heartbeat=`. @default 60 (RabbitMQ's proposal) */
  readonly heartbeat?: number;
  /** Shown in RabbitMQ's management UI. */
  readonly connectionName?: string;
}

export interface QueueDeclaration {
  readonly durable: boolean;
  readonly autoDelete?: boolean;
  readonly exclusive?: boolean;
  readonly arguments?: Readonly<Record<string, unknown>>;
}

/** Queues as Python Celery declares them by default: durable, no arguments (protocol.md §1.1). */
export const CELERY_QUEUE: QueueDeclaration = { durable: true, autoDelete: false };

export class Transport extends EventEmitter {
  readonly redactedUrl: string;
  readonly #url: string;
  readonly #logger: Logger;
  readonly #heartbeat: number;
  readonly #connectionName: string | undefined;
  #connection: Promise<ChannelModel> | undefined;
  #publishChannel: Promise<ConfirmChannel> | undefined;
  #openPublishChannel: ConfirmChannel | undefined;
  readonly #channels = new Set<Channel>();
  readonly #declared = new WeakMap<Channel, Map<string, Promise<void>>>();
  readonly #declaredDone = new WeakMap<Channel, Set<string>>();
  #closing: Promise<void> | undefined;

  constructor(options: TransportOptions) {
    super();
    this.#url = options.url;
    this.redactedUrl = redactUrl(options.url);
    this.#logger = options.logger;
    this.#heartbeat = options.heartbeat ?? 60;
    this.#connectionName = options.connectionName;
    if (!installedBeforeAmqplib) {
      this.#logger.warn(
        "amqplib was loaded before celery-gen: messages whose headers carry integers beyond int32 (Python's `L`) will close the connection; import 'celery-gen' before 'amqplib'",
      );
    }
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The open connection, opening it on first use. */
  connect(): Promise<ChannelModel> {
    if (this.#closing) return Promise.reject(new TransportError('CLOSED', 'transport is closed'));
    this.#connection ??= this.#open();
    return this.#connection;
  }

  async #open(): Promise<ChannelModel> {
    const url = new URL(this.#url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.#heartbeat));
    let connection: ChannelModel;
    try {
      // noDelay: without it Nagle holds small frames back and every round trip costs ~44 ms.
      connection = await amqp.connect(url.toString(), {
        noDelay: true,
        clientProperties: { connection_name: this.#connectionName ?? `celery-gen ${process.pid}` },
      });
    } catch (error) {
      this.#connection = undefined;
      throw new TransportError('CONNECT_FAILED', `cannot connect to ${this.redactedUrl}: ${messageOf(error)}`, { cause: error });
    }
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
      this.#logger.warn('broker connection closed', { url: this.redactedUrl, reason: error ? messageOf(error) : 'no reason given' });
      this.emit('close', error);
    });
    this.#logger.debug('connected', { url: this.redactedUrl });
    this.emit('connect');
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
    channel.on('error', (error: unknown) => this.#report('channel error', error));
    channel.on('close', () => this.#channels.delete(channel));
    return channel;
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
   * amqplib buffers when the socket is busy (publish() returns false) and never drops;
   * callers bound memory by awaiting confirms.
   */
  publish(channel: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        channel.publish(exchange, routingKey, body, options, (error: unknown) => {
          if (error) reject(new TransportError('PUBLISH_NACKED', `broker did not confirm the message to ${routingKey || exchange}: ${messageOf(error)}`));
          else resolve();
        });
      } catch (error) {
        reject(new TransportError('PUBLISH_FAILED', `cannot publish to ${routingKey || exchange}: ${messageOf(error)}`, { cause: error }));
      }
    });
  }

  /** Closes every channel, then the connection. Idempotent: later calls share the first. */
  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
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

export function messageOf(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
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
