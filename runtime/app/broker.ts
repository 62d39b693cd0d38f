/**
 * The seam between the core (app, client, worker) and the brokers and result backends: the
 * core only talks to these interfaces, app/registry.ts picks the implementation from the
 * URL's scheme (amqp/adapter.ts, redis/adapter.ts), so a third broker is one new folder
 * plus one line there.
 */
import type { ApplyOptions } from './api.js';
import type { Celery, CeleryOptions } from './celery.js';
import type { RpcAsyncResult } from '../client/async-result.js';
import type { ExceptionRegistry } from '../client/exception-registry.js';
import type { MessagePublisher, ResultTracker } from '../client/publisher.js';
import type { ControlNode } from '../observability/control.js';
import type { Mailbox } from '../observability/control-mailbox.js';
import type { EventSink } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { QueueRoute } from '../protocol/delayed-delivery.js';
import { CeleryGenError } from '../protocol/errors.js';
import type { QueueTypeSettings } from '../protocol/queue-types.js';
import type { TaskSpec } from '../protocol/spec.js';
import type { ResultStore, WorkerSource } from '../worker/source.js';

/** What an adapter is built from: the app's options and the pieces the app keeps for itself. */
export interface AdapterContext {
  /** The broker URLs (more than one: a failover list) or the backend URL, as one list. */
  readonly urls: readonly string[];
  readonly options: CeleryOptions;
  readonly logger: Logger;
  readonly exceptions: ExceptionRegistry;
  /** The app's queue rules (queue types, exchange type, queue arguments). */
  readonly queueSettings: QueueTypeSettings;
  /** How `queue` is typed, bound and published to (memoized by the app). */
  queueRoute(queue: string): QueueRoute;
}

/** A ResultTracker the app closes with itself. */
export type ClosableResultTracker = ResultTracker & { close(): Promise<void> };

/** A broker: where tasks, events and remote control go, and where workers take tasks from. */
export interface BrokerAdapter {
  /** The broker's name in a worker's `inspect stats` (`broker.transport`). */
  readonly name: string;
  /** The URL in use, password hidden. */
  readonly redactedUrl: string;
  /** Publishes task messages; `results` is the app's tracker (a publish sent again may wait for its reply queue). */
  messagePublisher(results: ResultTracker): MessagePublisher;
  /** rpc:// over this broker: replies come back through it. */
  rpcResults(): ClosableResultTracker;
  workerSource(logger: Logger): WorkerSource;
  mailbox(node: ControlNode, logger: Logger): Promise<Mailbox>;
  eventSink(): EventSink;
  /** Releases the connection (after the app's workers, trackers and backend are closed). */
  close(): Promise<void>;
}

/** One task of a chord: its name (or spec), arguments and routing. */
export interface ChordTask {
  readonly name: string;
  readonly spec?: TaskSpec;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  /** Only routing (`queue`, `exchange`, `routingKey`) and `priority` are used. */
  readonly options?: ApplyOptions;
}

/** A Celery signature as it travels in `embed.chord` (protocol.md §6.1). */
export interface SignatureJson {
  readonly task: string;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly subtask_type?: string | null;
  readonly immutable?: boolean;
  readonly [extra: string]: unknown;
}

/**
 * Publishes the chord callback with the header results, as Python's `callback.delay(resl)`:
 * args = [results, ...signature args], task id = `options.task_id`.
 */
export type ChordCallbackSender = (signature: SignatureJson, results: unknown[]) => Promise<void>;

/** A result backend: where clients await results and, for a key-value backend, where workers store them. */
export interface ResultBackendAdapter {
  /** Where published tasks' results are awaited. */
  tracker(): ClosableResultTracker;
  /** Where a worker stores states; undefined: it replies through the broker (rpc://). */
  resultStore(logger: Logger, sendCallback: ChordCallbackSender): ResultStore | undefined;
  /** Publishes a chord; absent where the backend cannot join one (rpc://). */
  sendChord?<R>(app: Celery, header: readonly ChordTask[], callback: ChordTask): Promise<RpcAsyncResult<R> & { readonly groupId: string }>;
  close(): Promise<void>;
}

/** rpc://: results come back through the broker, so the broker's own tracker serves; no chords. */
export function brokerResults(broker: BrokerAdapter): ResultBackendAdapter {
  return {
    tracker: () => broker.rpcResults(),
    resultStore: () => undefined,
    // The broker closes its reply consumer with itself.
    close: () => Promise.resolve(),
  };
}

/** Python's refusal of a chord without a key-value backend ("The rpc result backend does not support chords!"). */
export function chordUnsupported(): CeleryGenError {
  return new CeleryGenError('CHORD_UNSUPPORTED', 'a chord needs the Redis result backend (backend: "redis://…"); rpc:// cannot join one, as in Python');
}
