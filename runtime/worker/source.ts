/**
 * The worker's seam to its broker and result backend, so one worker serves AMQP and
 * Redis alike: a WorkerSource hands out deliveries (each settled exactly once, and able
 * to answer an rpc:// caller through the broker it came from), and a ResultStore, when
 * the app has a key-value backend (Redis), receives task states instead of rpc replies.
 * The sources live with their brokers: amqp/worker-source.ts, redis/worker-source.ts.
 */
import type { EncodedResult, IncomingMessage, ResultMeta, TaskRequest } from '../protocol/message.js';

export interface DeliveryInfo {
  readonly exchange: string;
  readonly routingKey: string;
  readonly redelivered: boolean;
}

/** One message a worker took from its broker. */
export interface WorkerDelivery {
  readonly message: IncomingMessage & { readonly deliveryInfo: DeliveryInfo };
  /** False once the connection it arrived on is gone: settling is then pointless, the broker hands it out again. */
  readonly live: boolean;
  ack(): void;
  /** Without requeue the message is dropped (or dead-lettered where the broker has a DLX). */
  reject(requeue: boolean): void;
  /** Answers an rpc:// caller through the broker the message came from (AMQP: on its channel, so it precedes the ack). */
  reply(replyTo: string, correlationId: string, payload: EncodedResult): void | Promise<void>;
}

export interface WorkerSource {
  /** Starts consuming `queues`; at most `prefetch` deliveries are unsettled at once. */
  start(queues: readonly string[], prefetch: number, onDelivery: (delivery: WorkerDelivery) => void): Promise<void>;
  /**
   * Changes how many unsettled deliveries the source hands out (the worker raises it while
   * it holds ETA messages, as Python does). Absent where the source cannot.
   */
  setPrefetch?(count: number): Promise<void>;
  /**
   * Re-publishes a delivery whose eta is `delayMs` away so that the broker brings it back
   * when due, and settles the original once the copy is safe. Returns undefined at once where
   * this delivery cannot be deferred (the worker then holds it, as before); the promise
   * rejects when deferring failed and the original is still unsettled. Absent where the
   * source never can.
   */
  defer?(delivery: WorkerDelivery, delayMs: number): Promise<void> | undefined;
  /** Stops taking messages; unsettled ones can still be settled. */
  cancel(): Promise<void>;
  /** Hands every unsettled message back to its queue and releases the connection. */
  close(): Promise<void>;
}

/** A key-value result backend as the worker sees it: states are stored, not replied. */
export interface ResultStore {
  /** Resolves once the state is stored (the worker acks after it). `request` is absent for undecodable messages. */
  store(taskId: string, meta: ResultMeta, request?: TaskRequest): Promise<void>;
}
