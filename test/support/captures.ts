// Reads the captured Python Celery messages in fixtures/messages (copies of
// ../shared/captures: celery-5.2 = Celery 5.2.6, celery-5.6 = Celery 5.6.3).
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from '../../runtime/protocol/message.js';

export const CAPTURE_DIRS = ['celery-5.2', 'celery-5.6'] as const;

/**
 * The protocol v2 headers in the order Python Celery writes them (`celery/app/amqp.py`
 * `as_task_v2`), as every captured task message has them; what our encoder must match.
 */
export const PYTHON_V2_HEADER_ORDER: readonly string[] = [
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
  'ignore_result',
];

export interface CapturedProperties {
  content_type: string | null;
  content_encoding: string | null;
  correlation_id: string | null;
  reply_to: string | null;
  delivery_mode: number | null;
  priority: number | null;
  expiration?: string | null;
}

export interface CapturedMessage {
  delivery_info: { exchange: string; routing_key: string; redelivered: boolean };
  properties: CapturedProperties;
  headers: Record<string, unknown> | null;
  body_raw?: string;
  body_base64?: string;
  body_parsed: unknown;
}

export interface Capture {
  case?: string;
  python_call?: string;
  python_exception?: string;
  messages?: CapturedMessage[];
  messages_in_order?: CapturedMessage[];
  [key: string]: unknown;
}

const root = new URL('../../fixtures/messages/', import.meta.url);

export function captureFiles(dir: (typeof CAPTURE_DIRS)[number]): string[] {
  return readdirSync(new URL(`${dir}/`, root))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function loadCapture(path: string): Capture {
  return JSON.parse(readFileSync(new URL(path, root), 'utf8')) as Capture;
}

export function bodyBytes(message: { body_raw?: string | null; body_base64?: string | null }): Buffer {
  if (typeof message.body_base64 === 'string') return Buffer.from(message.body_base64, 'base64');
  if (typeof message.body_raw === 'string') return Buffer.from(message.body_raw, 'utf8');
  throw new Error('capture has no body');
}

/** What amqplib would hand the worker for a captured message. */
export function toIncoming(message: CapturedMessage): IncomingMessage {
  const p = message.properties;
  return {
    body: bodyBytes(message),
    contentType: p.content_type ?? undefined,
    contentEncoding: p.content_encoding ?? undefined,
    headers: message.headers,
    correlationId: p.correlation_id ?? undefined,
    replyTo: p.reply_to ?? undefined,
    priority: p.priority ?? undefined,
    deliveryInfo: {
      exchange: message.delivery_info.exchange,
      routingKey: message.delivery_info.routing_key,
      redelivered: message.delivery_info.redelivered,
    },
  };
}

/**
 * The capture tool wraps bytes in msgpack bodies as {"__bytes_utf8__": …} / {"__bytes_b64__": …};
 * those become the Uint8Array the decoder must produce.
 */
export function unwrapCaptureBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapCaptureBytes);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record['__bytes_utf8__'] === 'string') return new Uint8Array(Buffer.from(record['__bytes_utf8__'], 'utf8'));
    if (typeof record['__bytes_b64__'] === 'string') return new Uint8Array(Buffer.from(record['__bytes_b64__'], 'base64'));
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapCaptureBytes(v)]));
  }
  return value;
}
