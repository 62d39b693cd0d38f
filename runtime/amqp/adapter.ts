/**
 * AMQP (RabbitMQ) behind the app's BrokerAdapter (app/broker.ts): one Transport, opened
 * lazily, carries tasks, the rpc:// replies, events and remote control; queues are declared
 * with the app's queue rules (queue types, topic exchanges, native delayed delivery).
 */
import type { AdapterContext, BrokerAdapter } from '../app/broker.js';
import type { MessagePublisher, ResultTracker } from '../client/publisher.js';
import type { ControlNode } from '../observability/control.js';
import type { Mailbox } from '../observability/control-mailbox.js';
import type { EventSink } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import { appHasQuorumQueue, queueArgumentsOf } from '../protocol/queue-types.js';
import type { WorkerSource } from '../worker/source.js';
import { startAmqpMailbox } from './control-mailbox.js';
import { AmqpEventSink } from './event-sink.js';
import { AmqpMessagePublisher } from './publisher.js';
import { RpcResultBackend } from './rpc-backend.js';
import { AmqpTopology } from './topology.js';
import { CELERY_QUEUE, type QueueDeclaration, Transport } from './transport.js';
import { AmqpWorkerSource } from './worker-source.js';

export class AmqpBrokerAdapter implements BrokerAdapter {
  /** The URL schemes app/registry.ts routes here. */
  static readonly schemes = ['amqp', 'amqps'] as const;
  /** A list of URLs is a failover list (Celery's `broker_url = 'amqp://h1//;amqp://h2//'`). */
  static readonly failover = true;

  readonly name = 'amqp';
  readonly #context: AdapterContext;
  #transport: Transport | undefined;
  #topology: AmqpTopology | undefined;
  #results: RpcResultBackend | undefined;

  constructor(context: AdapterContext) {
    this.#context = context;
  }

  /** The broker connection (created on first use; connects lazily). */
  get connection(): Transport {
    const { options, logger } = this.#context;
    this.#transport ??= new Transport({
      url: this.#context.urls,
      logger,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
      ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    });
    return this.#transport;
  }

  /** Exchanges, bindings and native delayed delivery on the broker. */
  get topology(): AmqpTopology {
    this.#topology ??= new AmqpTopology(this.connection, this.#context.logger);
    return this.#topology;
  }

  /** The rpc:// result backend; its reply queue is this client's `reply_to`. */
  get results(): RpcResultBackend {
    this.#results ??= new RpcResultBackend(this.connection, this.#context.logger, this.#context.exceptions);
    return this.#results;
  }

  get redactedUrl(): string {
    return this.connection.redactedUrl;
  }

  #queueDeclaration(queue: string): QueueDeclaration {
    const args = queueArgumentsOf(queue, this.#context.queueSettings);
    return args === undefined ? CELERY_QUEUE : { ...CELERY_QUEUE, arguments: args };
  }

  messagePublisher(results: ResultTracker): MessagePublisher {
    const { options, logger } = this.#context;
    return new AmqpMessagePublisher({
      transport: this.connection,
      results,
      logger,
      ...(options.publishTimeout === undefined ? {} : { publishTimeout: options.publishTimeout }),
      queueDeclaration: (queue) => this.#queueDeclaration(queue),
      queueRoute: (queue: string) => this.#context.queueRoute(queue),
      topology: this.topology,
      nativeDelay: appHasQuorumQueue(this.#context.queueSettings),
    });
  }

  rpcResults(): RpcResultBackend {
    return this.results;
  }

  workerSource(logger: Logger): WorkerSource {
    return new AmqpWorkerSource(this.connection, logger, (queue) => this.#queueDeclaration(queue), {
      queueRoute: (queue: string) => this.#context.queueRoute(queue),
      topology: this.topology,
      delayedDelivery: appHasQuorumQueue(this.#context.queueSettings),
    });
  }

  mailbox(node: ControlNode, logger: Logger): Promise<Mailbox> {
    return startAmqpMailbox(this.connection, node, logger);
  }

  eventSink(): EventSink {
    return new AmqpEventSink(this.connection);
  }

  async close(): Promise<void> {
    await this.#results?.close();
    await this.#transport?.close();
  }
}
