/**
 * The AMQP MessagePublisher: publishes an encoded task message as Python's `apply_async`
 * does (default exchange '', routing key = queue, persistent, the queue declared durable
 * with no arguments as Python declares it) with publisher confirms.
 *
 * Publishing is safe by default (issue 5): persistent, `mandatory` (a message no queue
 * takes is an UNROUTABLE error, not a silent drop), and resolved only by the broker's
 * confirm. A publish that meets a lost connection (before or after it was sent) waits for
 * the transport's reconnect and is sent again, until `publishTimeout` has passed since the
 * call; then it rejects with PUBLISH_TIMEOUT. A nacked publish is sent again the same way,
 * on a fresh channel (issue 14: a quorum queue whose leader died nacks for a while). A
 * message sent again may arrive twice (same task id): delivery is at-least-once, never
 * silently at-most-once.
 *
 * With the app's queue rules (queue-types.ts) a queue may sit behind a topic exchange; then
 * a countdown/ETA task of an app with quorum queues goes through native delayed delivery
 * (protocol/delayed-delivery.ts), and the topology is declared first, once per connection.
 */
import type { MessagePublisher, ResultTracker } from '../client/publisher.js';
import type { Route } from '../client/routes.js';
import { messageOf, type Logger } from '../observability/logger.js';
import type { OutgoingMessage, TaskMessageInput } from '../protocol/message.js';
import { RpcResultBackend } from './rpc-backend.js';
import { CELERY_QUEUE, type PublishChannel, type PublishOptions, type QueueDeclaration, type Transport, TransportError } from './transport.js';
import { AmqpTopology } from './topology.js';
import { DELAYED_DELIVERY_ENTRY, delayedRoutingKey, type QueueRoute, usesNativeDelay } from '../protocol/delayed-delivery.js';

/** See #resolve: how far below a whole second a delay may be and still be keyed as that second. */
const COUNTDOWN_SLACK_MS = 50;
/** Milliseconds a publish may wait for the broker (reconnect included) before it rejects. */
export const DEFAULT_PUBLISH_TIMEOUT = 30_000;

export interface AmqpPublisherDeps {
  readonly transport: Transport;
  /** The app's result tracker: the rpc reply queue must exist again before a message is sent again. */
  readonly results: ResultTracker;
  readonly logger: Logger;
  /** How a queue is declared before publishing to it (queue arguments such as x-max-priority). @default CELERY_QUEUE */
  readonly queueDeclaration?: (queue: string) => QueueDeclaration;
  /** Milliseconds a publish waits for the broker, reconnects included. @default 30000 */
  readonly publishTimeout?: number;
  /**
   * How the app routes and declares each queue (queue-types.ts); with a topic exchange, tasks
   * for the queue go to that exchange. Absent: RabbitMQ's default exchange, as before.
   */
  readonly queueRoute?: (queue: string) => QueueRoute;
  /** Declares exchanges, bindings and the delayed-delivery topology. */
  readonly topology?: AmqpTopology;
  /** Send countdown/ETA tasks through native delayed delivery (Celery 5.5+'s rule: the app has a quorum queue). @default false */
  readonly nativeDelay?: boolean;
}

/** A route after the app's queue rules: what to declare before the first publish on a connection. */
interface ResolvedRoute extends Route {
  /** The queue's exchange and binding to declare (topic exchanges, delayed delivery). */
  readonly declare?: QueueRoute;
  /** Sent through `celery_delayed_27`: the topology and the queue's delayed bindings come first. */
  readonly delayed?: boolean;
  /** AmqpTopology key of the declarations above. */
  readonly declareKey?: string;
}

export class AmqpMessagePublisher implements MessagePublisher {
  readonly #deps: AmqpPublisherDeps;

  constructor(deps: AmqpPublisherDeps) {
    this.#deps = deps;
  }

  // Not async: on the fast path the transport's promise is handed on without another hop.
  publishTask(message: OutgoingMessage, requested: Route, eta?: TaskMessageInput['eta']): Promise<void> {
    const route = this.#resolve(requested, eta);
    const { transport } = this.#deps;
    const { properties } = message;
    const publishOptions: PublishOptions = {
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
      deliveryMode: properties.deliveryMode,
      headers: message.wireHeaders,
      mandatory: true,
    };
    if (properties.priority !== undefined) publishOptions.priority = properties.priority;
    if (properties.expiration !== undefined) publishOptions.expiration = properties.expiration;
    const startedAt = Date.now();
    let sent: Promise<void>;
    // Synchronous when the channel is open and the queue declared: no promise hops per message.
    const channel = transport.openPublishChannel;
    if (channel && this.#declared(channel, route)) {
      sent = transport
        .publish(channel, route.exchange, route.routingKey, message.body, publishOptions)
        .catch((error: unknown) => this.#publishAgain(error, channel, message, route, publishOptions, startedAt));
    } else {
      sent = this.#publishAgain(undefined, undefined, message, route, publishOptions, startedAt);
    }
    return sent;
  }

  /**
   * The app's queue rules applied to a route on the default exchange (a topic exchange per
   * queue), then Celery 5.5's native delayed delivery for a future eta: `celery_delayed_27`
   * with the delay's bits in the routing key. Under 1 s the message goes directly (Celery
   * raises; the worker holds it for the fraction).
   */
  #resolve(route: Route, eta: TaskMessageInput['eta']): ResolvedRoute {
    const { queueRoute, topology } = this.#deps;
    if (!queueRoute || !topology || route.exchange !== '') return route;
    const declare = queueRoute(route.queue);
    if (declare.exchange === '') return route;
    const routingKey = route.routingKey === route.queue ? declare.routingKey : route.routingKey;
    if (this.#deps.nativeDelay && eta !== null && eta !== undefined) {
      const delayMs = (typeof eta === 'string' ? Date.parse(eta) : eta.getTime()) - Date.now();
      if (usesNativeDelay({ delayMs: delayMs + COUNTDOWN_SLACK_MS, appHasQuorumQueue: true, exchange: declare.exchange, exchangeType: declare.exchangeType })) {
        return {
          queue: route.queue,
          exchange: DELAYED_DELIVERY_ENTRY,
          // Celery keys int(countdown); the eta here was computed from it a moment ago, so the
          // time since then (< 50 ms) must not cost a whole second.
          routingKey: delayedRoutingKey(Math.floor((delayMs + COUNTDOWN_SLACK_MS) / 1000), routingKey),
          declare,
          delayed: true,
          declareKey: AmqpTopology.routeKey(declare, true),
        };
      }
    }
    return { queue: route.queue, exchange: declare.exchange, routingKey, declare, declareKey: AmqpTopology.routeKey(declare, false) };
  }

  /** Whether everything `route` needs is declared on this connection (then publishing needs no round trip first). */
  #declared(channel: PublishChannel, route: ResolvedRoute): boolean {
    if (route.declareKey !== undefined) return this.#deps.topology?.isReady(route.declareKey) ?? false;
    return route.exchange !== '' || this.#deps.transport.isDeclared(channel, route.routingKey);
  }

  /**
   * The slow path: (re)opens the channel, declares what the route needs and publishes, retrying
   * lost connections and nacks until the deadline. A nacked publish is sent again on a fresh
   * channel: RabbitMQ before 3.12.5 nacks every publish on a channel that first published while
   * a quorum queue's leader was dead (docs/clusters.md).
   */
  async #publishAgain(
    first: unknown,
    firstChannel: PublishChannel | undefined,
    message: OutgoingMessage,
    route: ResolvedRoute,
    publishOptions: PublishOptions,
    startedAt: number,
  ): Promise<void> {
    const { transport, results } = this.#deps;
    const timeout = this.#deps.publishTimeout ?? DEFAULT_PUBLISH_TIMEOUT;
    const deadline = startedAt + timeout;
    const target = route.exchange === '' ? `queue ${route.routingKey}` : `exchange ${route.exchange} (routing key ${route.routingKey})`;
    const what = `task ${String(message.headers['task'])}[${String(message.headers['id'])}]`;
    let lastError: unknown = first;
    let lastChannel = firstChannel;
    for (let attempt = 0; ; attempt++) {
      if (lastError !== undefined) {
        if (!this.#retryable(lastError)) throw lastError;
        if (lastChannel && lastError instanceof TransportError && lastError.code === 'PUBLISH_NACKED') transport.discardPublishChannel(lastChannel);
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new TransportError(
            'PUBLISH_TIMEOUT',
            `${what} was not published to ${target}: the broker did not take it within ${timeout} ms (publishTimeout); last error: ${errorText(lastError)}`,
            { cause: lastError },
          );
        }
        this.#deps.logger.warn(`publishing ${what} again`, { attempt, error: errorText(lastError) });
        // A channel that died with a live connection would otherwise be retried in a tight loop.
        await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500, left)));
      }
      try {
        const left = Math.max(1, deadline - Date.now());
        // The reply queue is auto-delete: after a reconnect it must exist again before a worker answers.
        if (lastError !== undefined && properties(publishOptions).replyTo) await within(results.ensure(), left, transport);
        const channel = transport.openPublishChannel ?? (await within(transport.publishChannel(), left, transport));
        lastChannel = channel;
        if (route.declare && route.declareKey !== undefined && !this.#declared(channel, route)) {
          const queue = route.declare.queue;
          await within(this.#deps.topology!.ensureRoute(route.declare, this.#deps.queueDeclaration?.(queue) ?? CELERY_QUEUE, route.delayed ?? false), left, transport);
        } else if (route.exchange === '' && !transport.isDeclared(channel, route.routingKey)) {
          await within(transport.assertQueue(channel, route.routingKey, this.#deps.queueDeclaration?.(route.routingKey) ?? CELERY_QUEUE), left, transport);
        }
        await transport.publish(channel, route.exchange, route.routingKey, message.body, publishOptions);
        if (attempt > 0) this.#deps.logger.info(`published ${what} after ${attempt + 1} attempts`);
        return;
      } catch (error) {
        lastError = error;
      }
    }
  }

  /** The reply target, waiting out a reconnect (bounded by publishTimeout) like a publish does. */
  async replyTo(startedAt: number): Promise<string> {
    const { results, transport } = this.#deps;
    // Only the rpc backend waits on the AMQP connection; a Redis tracker answers by itself.
    if (!(results instanceof RpcResultBackend)) return results.ensure();
    const timeout = this.#deps.publishTimeout ?? DEFAULT_PUBLISH_TIMEOUT;
    for (let attempt = 1; ; attempt++) {
      const left = startedAt + timeout - Date.now();
      try {
        return await within(results.ensure(), Math.max(1, left), transport);
      } catch (error) {
        if (!this.#retryable(error)) throw error;
        if (startedAt + timeout - Date.now() <= 0) {
          throw new TransportError('PUBLISH_TIMEOUT', `the rpc reply queue could not be set up within ${timeout} ms (publishTimeout); last error: ${errorText(error)}`, { cause: error });
        }
        await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500)));
      }
    }
  }

  /** Whether an error means "the connection went away" (send again later) rather than "the broker said no". */
  #retryable(error: unknown): boolean {
    if (error instanceof TransportError) {
      // PUBLISH_NACKED: a quorum queue electing a new leader refuses for a moment; sent again on a fresh channel.
      if (error.code === 'CONNECTION_LOST' || error.code === 'DISCONNECTED' || error.code === 'PUBLISH_NACKED') return true;
      if (error.code === 'DECLARE_FAILED') return this.#deps.transport.reconnecting || /closed/i.test(error.message);
      return false;
    }
    // amqplib's IllegalOperationError ("Channel closed", "Connection closed") while the connection goes down.
    return error instanceof Error && error.name === 'IllegalOperationError';
  }
}


function properties(options: PublishOptions): { replyTo: string | undefined } {
  return { replyTo: typeof options.replyTo === 'string' && options.replyTo !== '' ? options.replyTo : undefined };
}

/** Redacted: an error from below may quote a URL. */
function errorText(error: unknown): string {
  return messageOf(error);
}

/** `promise`, or a DISCONNECTED TransportError once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, transport: Transport): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TransportError('DISCONNECTED', `the broker at ${transport.redactedUrl} did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
