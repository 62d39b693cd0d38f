/**
 * kombu's virtual-transport envelope: how a message sits in a Redis list
 * (`kombu/transport/virtual/base.py` `prepare_message` + `_inplace_augment_message`,
 * protocol.md §9). Pure: no I/O. The task message inside (headers, body bytes) is
 * protocol/message.ts's business; this file only wraps and unwraps it.
 *
 * As Python 5.2.6 writes it (verified against a live client):
 *   {"body": "<base64>", "content-encoding": "utf-8", "content-type": "application/json",
 *    "headers": {...}, "properties": {"correlation_id": ..., "reply_to": ...,
 *    "delivery_mode": 2, "delivery_info": {"exchange": "", "routing_key": "celery"},
 *    "priority": 0, "body_encoding": "base64", "delivery_tag": "<uuid4>"}}
 */
import { randomUUID } from 'node:crypto';
import { encodeJson, pythonNumber, quotePython } from '../protocol/kombu-json.js';

/** kombu's separator between a queue name and its priority step, and inside binding entries. */
export const KOMBU_SEP = '\x06\x16';
/** kombu's default `priority_steps`. */
export const PRIORITY_STEPS: readonly number[] = [0, 3, 6, 9];

export interface DeliveryInfo {
  readonly exchange: string;
  readonly routingKey: string;
  readonly redelivered: boolean;
}

/** A message to put on a Redis queue: the task message as protocol/message.ts encoded it. */
export interface OutgoingMessage {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly headers: Readonly<Record<string, unknown>>;
  /** `headers` already as kombu JSON (protocol's headersJson), when the caller has it cheaper than encodeJson. */
  readonly headersJson?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly replyTo?: string | undefined;
  /** 2 = persistent (Celery's default for tasks), 1 = transient (rpc replies). @default 2 */
  readonly deliveryMode?: number | undefined;
  /** 0-9; on Redis 0 is served first (the opposite of RabbitMQ). @default 0 */
  readonly priority?: number | undefined;
  /** Other AMQP-style properties Python carries in the envelope (e.g. `expiration`). */
  readonly extraProperties?: Readonly<Record<string, unknown>> | undefined;
}

/** A message read back from a Redis queue. */
export interface EnvelopeMessage {
  readonly body: Buffer;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly headers: Record<string, unknown>;
  /** Every property as it was in the envelope (wire names). */
  readonly properties: Record<string, unknown>;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly priority: number;
  readonly deliveryTag: string;
  readonly deliveryInfo: DeliveryInfo;
}

export class EnvelopeError extends Error {
  readonly code = 'BAD_ENVELOPE';
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** kombu's `_get_message_priority`: clamp to 0-9, a non-number is the default 0. */
export function clampPriority(priority: unknown): number {
  const n = typeof priority === 'number' ? Math.trunc(priority) : typeof priority === 'string' ? Number.parseInt(priority, 10) : Number.NaN;
  if (!Number.isFinite(n)) return 0;
  return Math.max(0, Math.min(9, n));
}

/** kombu's `Channel.priority`: the highest step not above `n` (`steps[bisect(steps, n) - 1]`). */
export function priorityStep(n: number, steps: readonly number[] = PRIORITY_STEPS): number {
  let step = steps[0] ?? 0;
  for (const s of steps) if (s <= n) step = s;
  return step;
}

/** The list holding a queue's messages of one priority (`_q_for_pri`): the bare name for step 0. */
export function queueKeyForPriority(queue: string, priority: number, steps: readonly number[] = PRIORITY_STEPS): string {
  const step = priorityStep(clampPriority(priority), steps);
  return step ? `${queue}${KOMBU_SEP}${step}` : queue;
}

/** The queue a list key belongs to (`dest.rsplit(sep, 1)[0]`). */
export function queueOfKey(key: string): string {
  const at = key.lastIndexOf(KOMBU_SEP);
  return at < 0 ? key : key.slice(0, at);
}

/** Encodes the envelope exactly as kombu 5.2 writes it (Python `json.dumps` layout and key order). */
export function encodeEnvelope(message: OutgoingMessage, route: { exchange: string; routingKey: string }, deliveryTag: string = randomUUID()): string {
  // Written by hand around encodeJson, which only sees the parts that vary in shape: the
  // envelope is on the publish path of every task, and base64 never needs escaping.
  let properties = '';
  if (message.correlationId !== undefined) properties += `"correlation_id": ${quotePython(message.correlationId)}, `;
  if (message.replyTo !== undefined) properties += `"reply_to": ${quotePython(message.replyTo)}, `;
  properties += `"delivery_mode": ${pythonNumber(message.deliveryMode ?? 2)}, `;
  if (message.extraProperties) {
    for (const [key, value] of Object.entries(message.extraProperties)) {
      if (value !== undefined) properties += `${quotePython(key)}: ${encodeJson(value)}, `;
    }
  }
  properties +=
    `"delivery_info": {"exchange": ${quotePython(route.exchange)}, "routing_key": ${quotePython(route.routingKey)}}, ` +
    `"priority": ${clampPriority(message.priority ?? 0)}, "body_encoding": "base64", "delivery_tag": ${quotePython(deliveryTag)}`;
  const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString('base64');
  return (
    `{"body": "${body}", "content-encoding": ${quotePython(message.contentEncoding)}, "content-type": ${quotePython(message.contentType)}, ` +
    `"headers": ${message.headersJson ?? encodeJson(message.headers)}, "properties": {${properties}}}`
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes an envelope. Throws EnvelopeError for text that is not a kombu envelope; the
 * body bytes are returned undecoded (protocol/message.ts judges them).
 */
export function decodeEnvelope(text: string): EnvelopeMessage {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new EnvelopeError(`not JSON: ${text.slice(0, 120)}`);
  }
  return envelopeFromPayload(payload);
}

export function envelopeFromPayload(payload: unknown): EnvelopeMessage {
  if (!isRecord(payload)) throw new EnvelopeError('the envelope is not a JSON object');
  const properties = isRecord(payload.properties) ? payload.properties : {};
  const info = isRecord(properties.delivery_info) ? properties.delivery_info : {};
  const rawBody = payload.body;
  let body: Buffer;
  if (rawBody === undefined || rawBody === null || rawBody === '') body = Buffer.alloc(0);
  else if (typeof rawBody !== 'string') throw new EnvelopeError('the envelope body is not a string');
  else if (properties.body_encoding === 'base64') body = Buffer.from(rawBody, 'base64');
  else if (properties.body_encoding === undefined || properties.body_encoding === null) body = Buffer.from(rawBody, 'utf8');
  else throw new EnvelopeError(`unsupported body_encoding ${JSON.stringify(properties.body_encoding)}`);
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    body,
    contentType: str(payload['content-type']) ?? '',
    contentEncoding: str(payload['content-encoding']) ?? '',
    headers: isRecord(payload.headers) ? payload.headers : {},
    properties,
    correlationId: str(properties.correlation_id),
    replyTo: str(properties.reply_to),
    priority: clampPriority(properties.priority),
    deliveryTag: str(properties.delivery_tag) ?? '',
    deliveryInfo: {
      exchange: str(info.exchange) ?? '',
      routingKey: str(info.routing_key) ?? '',
      redelivered: info.redelivered === true,
    },
  };
}

/**
 * The `unacked` hash value kombu's QoS.append writes: `[payload, exchange, routing_key]`.
 * The payload text is spliced in unchanged, so a restored message is the one delivered.
 */
export function encodeUnackedEntry(rawPayload: string, exchange: string, routingKey: string): string {
  return `[${rawPayload}, ${encodeJson(exchange)}, ${encodeJson(routingKey)}]`;
}

/**
 * Parses an `unacked` entry and marks the payload redelivered, as kombu's
 * `_do_restore_message` does before pushing it back.
 */
export function restoredPayload(entry: string): { payload: string; exchange: string; routingKey: string } {
  const parsed: unknown = JSON.parse(entry);
  if (!Array.isArray(parsed) || parsed.length < 3 || !isRecord(parsed[0])) throw new EnvelopeError('unacked entry is not [payload, exchange, routing_key]');
  const [payload, exchange, routingKey] = parsed as [Record<string, unknown>, unknown, unknown];
  const headers = payload.headers;
  const properties = payload.properties;
  // kombu sets both inside one try: a payload without headers is pushed back unmarked.
  if (isRecord(headers) && isRecord(properties) && isRecord(properties.delivery_info)) {
    headers.redelivered = true;
    properties.delivery_info.redelivered = true;
  }
  return { payload: encodeJson(payload), exchange: typeof exchange === 'string' ? exchange : '', routingKey: typeof routingKey === 'string' ? routingKey : '' };
}

/** A binding entry of `_kombu.binding.<exchange>`: `routing_key SEP pattern SEP queue`. */
export function encodeBinding(routingKey: string, pattern: string, queue: string): string {
  return [routingKey, pattern, queue].join(KOMBU_SEP);
}

export function decodeBinding(entry: string): { routingKey: string; pattern: string; queue: string } {
  const [routingKey = '', pattern = '', queue = ''] = entry.split(KOMBU_SEP);
  return { routingKey, pattern, queue };
}
