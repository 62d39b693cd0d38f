/**
 * Where protocol/message.ts's messages meet the Redis envelope and result backend: the one
 * place that maps between their shapes, so neither side knows the other.
 */
import { headersJson, type IncomingMessage, type OutgoingMessage as TaskMessage, type ResultMeta, type TaskRequest } from '../protocol/message.js';
import type { StoreRequest } from './backend.js';
import type { EnvelopeMessage, OutgoingMessage } from './envelope.js';

/**
 * A task message as the envelope carries it. The plain `headers` go in (JSON has no AMQP
 * integer widths), and the priority property is always present on Redis: kombu's
 * `prepare_message` defaults it to 0.
 */
export function envelopeFromTaskMessage(message: TaskMessage): OutgoingMessage {
  const { properties } = message;
  return {
    body: message.body,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    headers: message.headers,
    headersJson: headersJson(message),
    correlationId: properties.correlationId,
    replyTo: properties.replyTo,
    deliveryMode: properties.deliveryMode,
    priority: properties.priority ?? 0,
    ...(properties.expiration !== undefined ? { extraProperties: { expiration: properties.expiration } } : {}),
  };
}

/** What protocol/message.ts's decoder reads, from a message taken off a Redis list. */
export function incomingFromEnvelope(message: EnvelopeMessage): IncomingMessage {
  return {
    body: message.body,
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    headers: message.headers,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    priority: message.priority,
    deliveryInfo: { ...message.deliveryInfo },
  };
}

/** A worker's result meta plus the request it answers, as the Redis backend stores it. */
export function storeRequestFromMeta(meta: ResultMeta, request?: Pick<TaskRequest, 'group' | 'parentId'>): StoreRequest {
  return {
    status: meta.status,
    result: meta.result,
    traceback: meta.traceback,
    children: meta.children ?? [],
    groupId: request?.group ?? null,
    parentId: request?.parentId ?? null,
  };
}
