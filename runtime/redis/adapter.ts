/**
 * Redis behind the app's BrokerAdapter and ResultBackendAdapter (app/broker.ts): kombu's
 * Redis transport as the broker, and the Redis result backend (which also joins chords).
 * Both parse their URL at construction, so a bad one fails when the app is created.
 */
import type { AdapterContext, BrokerAdapter, ChordCallbackSender, ChordTask, ResultBackendAdapter } from '../app/broker.js';
import type { Celery } from '../app/celery.js';
import type { RpcAsyncResult } from '../client/async-result.js';
import type { MessagePublisher } from '../client/publisher.js';
import type { ControlNode } from '../observability/control.js';
import type { Mailbox } from '../observability/control-mailbox.js';
import type { EventSink } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { ResultStore, WorkerSource } from '../worker/source.js';
import { RedisMessagePublisher, RedisResultStore, RedisResultTracker, RedisRpcResults } from './app.js';
import { RedisResultBackend } from './backend.js';
import { RedisBroker } from './broker.js';
import { sendChord } from './chord.js';
import { startRedisMailbox } from './control-mailbox.js';
import { RedisEventSink } from './event-sink.js';
import { RedisWorkerSource } from './worker-source.js';

const SCHEMES = ['redis', 'rediss'] as const;

export class RedisBrokerAdapter implements BrokerAdapter {
  /** The URL schemes app/registry.ts routes here. */
  static readonly schemes = SCHEMES;
  /** One Redis URL only (Celery's failover lists are an AMQP feature here). */
  static readonly failover = false;

  readonly name = 'redis';
  readonly broker: RedisBroker;
  readonly #context: AdapterContext;
  #rpc: RedisRpcResults | undefined;

  constructor(context: AdapterContext) {
    this.#context = context;
    const { options } = context;
    this.broker = new RedisBroker({
      url: context.urls[0]!,
      log: context.logger,
      ...(options.brokerTransportOptions?.visibilityTimeout !== undefined ? { visibilityTimeout: options.brokerTransportOptions.visibilityTimeout } : {}),
      ...(options.brokerTransportOptions?.restoreInterval !== undefined ? { restoreInterval: options.brokerTransportOptions.restoreInterval } : {}),
      ...(options.brokerTransportOptions?.connectionName !== undefined ? { connectionName: options.brokerTransportOptions.connectionName } : {}),
    });
  }

  get redactedUrl(): string {
    return this.broker.redactedUrl;
  }

  messagePublisher(): MessagePublisher {
    return new RedisMessagePublisher(this.broker);
  }

  rpcResults(): RedisRpcResults {
    this.#rpc ??= new RedisRpcResults(this.broker, this.#context.logger, this.#context.exceptions);
    return this.#rpc;
  }

  workerSource(logger: Logger): WorkerSource {
    return new RedisWorkerSource(this.broker, logger);
  }

  mailbox(node: ControlNode, logger: Logger): Promise<Mailbox> {
    return startRedisMailbox(this.broker, node, logger);
  }

  eventSink(): EventSink {
    return new RedisEventSink(this.broker);
  }

  async close(): Promise<void> {
    await this.#rpc?.close();
    await this.broker.close();
  }
}

export class RedisBackendAdapter implements ResultBackendAdapter {
  /** The URL schemes app/registry.ts routes here. */
  static readonly schemes = SCHEMES;

  readonly backend: RedisResultBackend;
  readonly #context: AdapterContext;
  #tracker: RedisResultTracker | undefined;

  constructor(context: AdapterContext) {
    this.#context = context;
    const { options } = context;
    this.backend = new RedisResultBackend({
      url: context.urls[0]!,
      log: context.logger,
      ...(options.resultExpires !== undefined ? { expires: options.resultExpires } : {}),
      ...(options.brokerTransportOptions?.connectionName !== undefined ? { connectionName: options.brokerTransportOptions.connectionName } : {}),
      ...(options.typedJson ? { typedJson: true } : {}),
    });
  }

  tracker(): RedisResultTracker {
    this.#tracker ??= new RedisResultTracker(this.backend, this.#context.logger, this.#context.exceptions);
    return this.#tracker;
  }

  resultStore(logger: Logger, sendCallback: ChordCallbackSender): ResultStore {
    return new RedisResultStore(this.backend, logger, sendCallback);
  }

  sendChord<R>(app: Celery, header: readonly ChordTask[], callback: ChordTask): Promise<RpcAsyncResult<R> & { readonly groupId: string }> {
    return sendChord<R>(app, header, callback);
  }

  async close(): Promise<void> {
    await this.#tracker?.close();
    await this.backend.close();
  }
}
