/**
 * Celery's message protocol, pure: task messages (v2 out; v2, v1 and hybrid in) and
 * result payloads. No I/O happens here; the transport, client, results and worker call
 * these functions on the bytes they move.
 *
 * Two promises:
 * - `encodeTaskMessage` never returns a message a Python worker would choke on: shapes
 *   are validated first (Python 5.2 workers crash on several malformed bodies and die
 *   again on the redelivery, captures README §4), so a bad input is a ProtocolError here.
 * - `decodeTaskMessage`/`decodeResult` either return a well-formed value or throw a
 *   ProtocolError with a precise message (and the task id/name when they could be read),
 *   never anything else, whatever the bytes.
 *
 * Headers: `OutgoingMessage.headers` is the plain view (what Python's side decodes, handy
 * for logs and tests); `OutgoingMessage.wireHeaders` is the same table with every integer
 * pinned to Python's AMQP field type (see wire-headers.ts). Publish `wireHeaders`; that is
 * the one way (publishing `headers` lets amqplib guess int16 and breaks Python workers).
 */
import type { TaskState } from '../app/api.js';
import { ProtocolError, TaskError } from './errors.js';
import * as pythonBuiltins from './python-builtins.js';
import { decodeJson, encodeJson, isPythonDate, pythonIsoFormat, scalarJson } from './kombu-json.js';
import { decodeMsgpack, encodeMsgpack, MSGPACK_CONTENT_TYPE } from './msgpack.js';
import { setOwn } from './own-property.js';
import { argsListRepr, argsRepr, excRepr, kwargsRepr, safeRepr } from './pyrepr.js';
import { toWireHeaders, toWireHeaderValue } from './wire-headers.js';

export type { TaskState } from '../app/api.js';

export const TASK_STATES: readonly TaskState[] = [
  'PENDING',
  'RECEIVED',
  'STARTED',
  'SUCCESS',
  'FAILURE',
  'REVOKED',
  'REJECTED',
  'RETRY',
  'IGNORED',
];
/** States after which a result no longer changes (`celery.states.READY_STATES`). */
export const READY_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['SUCCESS', 'FAILURE', 'REVOKED']);
/** States whose result is an exception (`celery.states.EXCEPTION_STATES`). */
export const EXCEPTION_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['RETRY', 'FAILURE', 'REVOKED']);

export const JSON_CONTENT_TYPE = 'application/json';
export const UTF8 = 'utf-8';
export const BINARY = 'binary';

/** `embed` of a v2 body: canvas continuation. Signatures are kept as the peer sent them. */
export interface Embed {
  callbacks: unknown[] | null;
  errbacks: unknown[] | null;
  chain: unknown[] | null;
  chord: unknown;
}

export interface TaskMessageInput {
  readonly id: string;
  /** The registered task name, e.g. `proj.tasks.add`. */
  readonly task: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** The rpc reply queue, or '' (Python always sets the property). */
  readonly replyTo: string;
  /** Sender node name; Python uses `gen<pid>@<host>`. */
  readonly origin: string;
  /** A Date is written as Python's isoformat with `+00:00` and 6 fraction digits; a string is sent as is. */
  readonly eta?: Date | string | null;
  readonly expires?: Date | string | null;
  readonly retries?: number;
  /** `[hard, soft]` seconds. */
  readonly timeLimit?: readonly [number | null, number | null];
  /** Defaults to `id`, as Python does. */
  readonly rootId?: string | null;
  readonly parentId?: string | null;
  readonly group?: string | null;
  readonly groupIndex?: number | null;
  readonly shadow?: string | null;
  readonly ignoreResult?: boolean;
  /** The AMQP priority property. Python sends 0 with default routing and none with `queue=`; the caller decides. */
  readonly priority?: number;
  readonly embed?: Partial<Embed>;
  /** Merged after the v2 headers, as Python merges `apply_async(headers=…)`. Cannot replace `id` or `task`. */
  readonly extraHeaders?: Readonly<Record<string, unknown>>;
  /** @default 'json'. msgpack as kombu writes it (`application/x-msgpack`, `binary`). */
  readonly serializer?: 'json' | 'msgpack';
  /** kombu 5.3+ typed JSON envelopes (Date, Uint8Array); see kombu-json.ts. */
  readonly typedJson?: boolean;
  /** @default 'py' (Python workers ignore it; the captures' peers send 'py'). */
  readonly lang?: string;
  /** Override `argsrepr`/`kwargsrepr` (Python's `apply_async(argsrepr=…)`). */
  readonly argsrepr?: string;
  readonly kwargsrepr?: string;
  /** 'tuple' as `delay`/`apply_async` write `(2, 3)`; 'list' as `send_task(args=[…])` writes `[4, 5]`. */
  readonly argsReprStyle?: 'tuple' | 'list';
  /** Clock for the `expiration` property. @default new Date() */
  readonly now?: Date;
}

export interface MessageProperties {
  contentType: string;
  contentEncoding: string;
  correlationId: string;
  replyTo: string;
  deliveryMode: 1 | 2;
  priority?: number;
  /** Per-message TTL in milliseconds, as kombu writes it (`str(int(seconds * 1000))`). */
  expiration?: string;
}

export interface OutgoingMessage {
  /** Plain values, in Python's header order. For logs and inspection; do not publish these. */
  headers: Record<string, unknown>;
  /** The table to publish: integers pinned to Python's AMQP types. */
  wireHeaders: Record<string, unknown>;
  properties: MessageProperties;
  body: Buffer;
  /** Set when `headers` is exactly the v2 table encodeTaskMessage builds (no extraHeaders): headersJson() may use its fast path. */
  standardHeaders?: true;
}

export interface IncomingMessage {
  body: Buffer;
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  headers?: Record<string, unknown> | null | undefined;
  correlationId?: string | undefined;
  replyTo?: string | undefined;
  priority?: number | undefined;
  deliveryInfo?: { exchange: string; routingKey: string; redelivered: boolean } | undefined;
}

export interface DecodeOptions {
  /** Bodies larger than this are refused with TOO_LARGE before parsing. @default 64 MiB */
  readonly maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface TaskRequest {
  protocol: 1 | 2;
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  embed: Embed;
  eta: string | null;
  expires: string | null;
  /** v1 only: false when naive eta/expires are in local time rather than UTC (`utc` body key). */
  utc: boolean;
  retries: number;
  timeLimit: [number | null, number | null];
  rootId: string | null;
  parentId: string | null;
  group: string | null;
  groupIndex: number | null;
  shadow: string | null;
  origin: string | null;
  ignoreResult: boolean;
  argsrepr: string;
  kwargsrepr: string;
  replyTo: string | null;
  correlationId: string | null;
  priority: number | null;
  deliveryInfo: { exchange: string; routingKey: string; redelivered: boolean } | null;
  /** Every header as received (byte-array values turned into strings when they are UTF-8). */
  headers: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------
// Encoding task messages

export function encodeTaskMessage(input: TaskMessageInput): OutgoingMessage {
  const ctx = { taskId: typeof input.id === 'string' ? input.id : undefined, taskName: typeof input.task === 'string' ? input.task : undefined };
  const bad = (code: 'BAD_BODY' | 'BAD_HEADER', message: string, cause?: unknown): never => {
    throw new ProtocolError(code, `cannot publish task ${ctx.taskName ?? '?'}[${ctx.taskId ?? '?'}]: ${message}`, { ...ctx, cause });
  };
  if (typeof input.id !== 'string' || input.id === '') bad('BAD_HEADER', 'id must be a non-empty string');
  if (typeof input.task !== 'string' || input.task === '') bad('BAD_HEADER', 'task must be a non-empty string');
  if (!Array.isArray(input.args)) bad('BAD_BODY', 'args must be an array (Python: task args must be a list or tuple)');
  if (!isPlainObject(input.kwargs)) bad('BAD_BODY', 'kwargs must be a plain object (Python: task keyword arguments must be a mapping)');
  if (typeof input.replyTo !== 'string') bad('BAD_HEADER', 'replyTo must be a string');
  if (typeof input.origin !== 'string') bad('BAD_HEADER', 'origin must be a string');
  const serializer = input.serializer ?? 'json';
  if (serializer !== 'json' && serializer !== 'msgpack') bad('BAD_BODY', `serializer ${String(input.serializer)} is not supported`);
  const retries = input.retries ?? 0;
  if (!Number.isSafeInteger(retries) || retries < 0) bad('BAD_HEADER', 'retries must be a non-negative integer');
  const timeLimit = input.timeLimit ?? [null, null];
  if (!Array.isArray(timeLimit) || timeLimit.length !== 2 || !timeLimit.every(isLimit)) {
    bad('BAD_HEADER', 'timeLimit must be [hard, soft] with non-negative numbers or null');
  }
  const groupIndex = input.groupIndex ?? null;
  if (groupIndex !== null && !(Number.isSafeInteger(groupIndex) && groupIndex >= 0)) bad('BAD_HEADER', 'groupIndex must be a non-negative integer');
  if (input.priority !== undefined && !(Number.isInteger(input.priority) && input.priority >= 0 && input.priority <= 255)) {
    bad('BAD_HEADER', 'priority must be an integer 0..255');
  }
  optionalText(input.rootId, 'rootId', bad);
  optionalText(input.parentId, 'parentId', bad);
  optionalText(input.group, 'group', bad);
  optionalText(input.shadow, 'shadow', bad);
  optionalText(input.lang, 'lang', bad);
  optionalText(input.argsrepr, 'argsrepr', bad);
  optionalText(input.kwargsrepr, 'kwargsrepr', bad);
  const eta = isoHeader(input.eta, 'eta', bad);
  const expires = isoHeader(input.expires, 'expires', bad);
  const embed = input.embed === undefined ? EMPTY_EMBED() : normalizeEmbed(input.embed, (why) => bad('BAD_BODY', why));
  // An undefined keyword is "not given": left out of the body, so also out of kwargsrepr.
  const kwargs = Object.values(input.kwargs).includes(undefined) ? Object.fromEntries(Object.entries(input.kwargs).filter(([, v]) => v !== undefined)) : input.kwargs;

  let body: Buffer;
  try {
    body =
      serializer === 'msgpack'
        ? encodeMsgpack([input.args, kwargs, embed])
        : // kombu JSON is ASCII (ensure_ascii escapes the rest), so latin1 gives the UTF-8 bytes without the UTF-8 encoder's cost.
          Buffer.from(encodeJson([input.args, kwargs, embed], { typed: input.typedJson ?? false }), 'latin1');
  } catch (error) {
    return bad('BAD_BODY', error instanceof Error ? error.message : String(error), error);
  }

  const headers: Record<string, unknown> = {
    lang: input.lang ?? 'py',
    task: input.task,
    id: input.id,
    shadow: input.shadow ?? null,
    eta,
    expires,
    group: input.group ?? null,
    group_index: groupIndex,
    retries,
    timelimit: [timeLimit[0], timeLimit[1]],
    root_id: input.rootId || input.id, // empty root_id defaults to the task id, as Python
    parent_id: input.parentId ?? null,
    argsrepr: input.argsrepr ?? (input.argsReprStyle === 'list' ? argsListRepr(input.args) : argsRepr(input.args)),
    kwargsrepr: input.kwargsrepr ?? kwargsRepr(kwargs),
    origin: input.origin,
    ignore_result: input.ignoreResult ?? false,
  };
  if (input.extraHeaders !== undefined) {
    if (!isPlainObject(input.extraHeaders)) bad('BAD_HEADER', 'extraHeaders must be a plain object');
    for (const key of Object.keys(input.extraHeaders)) {
      if (key === 'id' || key === 'task') bad('BAD_HEADER', `extraHeaders cannot replace the ${key} header`);
      setOwn(headers, key, input.extraHeaders[key]);
    }
  }
  // The merged table must pass the checks we read with (extraHeaders may replace any
  // header but id and task, as Python's apply_async(headers=…) may).
  try {
    readHeaderFields(headers, ctx, 2);
  } catch (error) {
    return bad('BAD_HEADER', error instanceof Error ? error.message : String(error), error);
  }
  let wireHeaders: Record<string, unknown>;
  try {
    wireHeaders = input.extraHeaders === undefined ? standardWireHeaders(headers) : toWireHeaders(headers);
  } catch (error) {
    return bad('BAD_HEADER', error instanceof Error ? error.message : String(error), error);
  }

  const properties: MessageProperties = {
    contentType: serializer === 'msgpack' ? MSGPACK_CONTENT_TYPE : JSON_CONTENT_TYPE,
    contentEncoding: serializer === 'msgpack' ? BINARY : UTF8,
    correlationId: input.id,
    replyTo: input.replyTo,
    deliveryMode: 2,
  };
  if (input.priority !== undefined) properties.priority = input.priority;
  if (expires !== null) properties.expiration = expirationMs(expires, input.now ?? new Date());
  const message: OutgoingMessage = { headers, wireHeaders, properties, body };
  if (input.extraHeaders === undefined) message.standardHeaders = true;
  return message;
}

/**
 * The header table as kombu JSON (what the Redis envelope carries), byte for byte what
 * encodeJson(message.headers) writes. The standard v2 table is written from a template
 * of its known keys: the generic walk cost about as much as the rest of a Redis publish's
 * encoding. Any other table goes through encodeJson.
 */
export function headersJson(message: OutgoingMessage): string {
  if (!message.standardHeaders) return encodeJson(message.headers);
  const h = message.headers;
  const limit = h['timelimit'] as readonly unknown[];
  return (
    `{"lang": ${item(h['lang'])}, "task": ${item(h['task'])}, "id": ${item(h['id'])}, "shadow": ${item(h['shadow'])}, ` +
    `"eta": ${item(h['eta'])}, "expires": ${item(h['expires'])}, "group": ${item(h['group'])}, "group_index": ${item(h['group_index'])}, ` +
    `"retries": ${item(h['retries'])}, "timelimit": [${item(limit[0])}, ${item(limit[1])}], "root_id": ${item(h['root_id'])}, ` +
    `"parent_id": ${item(h['parent_id'])}, "argsrepr": ${item(h['argsrepr'])}, "kwargsrepr": ${item(h['kwargsrepr'])}, ` +
    `"origin": ${item(h['origin'])}, "ignore_result": ${item(h['ignore_result'])}}`
  );
}

function item(value: unknown): string {
  return scalarJson(value) ?? encodeJson(value);
}

/**
 * toWireHeaders of the v2 header table above, as one object literal: every message's table
 * then shares one shape, and amqplib's encoder (a `for…in` per table) runs on its cached
 * key list. Built from a generic `{}` key by key, the table's shape is shared with every
 * other object grown that way and the cache keeps being dropped: the header encoding alone
 * cost ~5 µs per message in the publish benchmark, against <1 µs for a reused table.
 */
function standardWireHeaders(h: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return {
    lang: toWireHeaderValue('lang', h['lang']),
    task: toWireHeaderValue('task', h['task']),
    id: toWireHeaderValue('id', h['id']),
    shadow: toWireHeaderValue('shadow', h['shadow']),
    eta: toWireHeaderValue('eta', h['eta']),
    expires: toWireHeaderValue('expires', h['expires']),
    group: toWireHeaderValue('group', h['group']),
    group_index: toWireHeaderValue('group_index', h['group_index']),
    retries: toWireHeaderValue('retries', h['retries']),
    timelimit: toWireHeaderValue('timelimit', h['timelimit']),
    root_id: toWireHeaderValue('root_id', h['root_id']),
    parent_id: toWireHeaderValue('parent_id', h['parent_id']),
    argsrepr: toWireHeaderValue('argsrepr', h['argsrepr']),
    kwargsrepr: toWireHeaderValue('kwargsrepr', h['kwargsrepr']),
    origin: toWireHeaderValue('origin', h['origin']),
    ignore_result: toWireHeaderValue('ignore_result', h['ignore_result']),
  };
}

/** The embed of a message without canvas (what normalizeEmbed({}) gives), fresh per message. */
const EMPTY_EMBED = (): Embed => ({ callbacks: null, errbacks: null, chain: null, chord: null });

function optionalText(value: unknown, name: string, bad: (code: 'BAD_HEADER', message: string) => never): void {
  if (value !== undefined && value !== null && typeof value !== 'string') bad('BAD_HEADER', `${name} must be a string`);
}

function isLimit(value: unknown): boolean {
  return value === null || (typeof value === 'number' && Number.isFinite(value) && value >= 0);
}

// What we publish: the shape every Python peer parses the same way. Celery 5.2's regex
// parser (celery/utils/iso8601.py) reads the fraction as microseconds (so at most 6
// digits) and silently ignores an offset without a colon; 5.3+ uses fromisoformat.
const ISO_OUT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;
// What we read: the forms Python clients send (isoformat() of a datetime or a date) and the
// variants 5.2's parser or fromisoformat accept: space separator, offsets with or without
// a colon, fractions of any length.
const ISO_IN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/;

function isoHeader(value: Date | string | null | undefined, name: string, bad: (code: 'BAD_HEADER', why: string) => never): string | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) {
    if (!isPythonDate(value)) return bad('BAD_HEADER', `${name} must be a valid Date between years 1 and 9999 (Python's datetime range)`);
    return isoMicros(value);
  }
  if (typeof value !== 'string' || !ISO_OUT.test(value) || parseIso(value) === null) {
    return bad('BAD_HEADER', `${name} must be a Date or an ISO 8601 string like 2026-11-28T18:20:18.920616+00:00`);
  }
  // Celery 5.2 reads the fraction digits as microseconds (".920" would be 920 µs): write
  // the 6 digits isoformat() writes, which every parser reads alike.
  return value.replace(/\.(\d{1,5})(?=Z|[+-]|$)/, (_m, digits: string) => `.${digits.padEnd(6, '0')}`);
}

/** Python `datetime.isoformat()` of an aware UTC datetime, always with 6 fraction digits (protocol.md pitfall 7). */
export function isoMicros(date: Date): string {
  const iso = pythonIsoFormat(date, '+00:00');
  return iso.includes('.') ? iso : iso.replace('+00:00', '.000000+00:00');
}

/** Python 5.2: `expiration = str(int(max(expires - now, 0) * 1000))`. */
function expirationMs(expires: string, now: Date): string {
  const at = parseIso(expires);
  if (at === null) return '0';
  return String(Math.max(0, Math.trunc(at - now.getTime())));
}

/**
 * Milliseconds since the epoch of an ISO 8601 date or date-time as Python peers write them,
 * or null. Naive values are UTC (protocol v2: "no timezone = UTC"; Celery's default
 * timezone). Fractions are read as fractions of a second, as fromisoformat does (Celery
 * 5.2's own parser misreads `.920` as 920 µs; Python always sends 6 digits, where both agree).
 */
export function parseIso(text: string): number | null {
  const m = ISO_IN.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', fraction = '', zone, sign, oh = '0', om = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  if (Number(oh) > 23 || Number(om) > 59) return null;
  const ms = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear puts them back.
  const fixed = year < 100 ? new Date(utc).setUTCFullYear(year) : utc;
  const offsetMinutes = zone === undefined || zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return fixed - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  return [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function normalizeEmbed(embed: Partial<Embed>, bad: (why: string) => never): Embed {
  if (!isPlainObject(embed)) return bad('embed must be an object');
  const list = (name: 'callbacks' | 'errbacks' | 'chain'): unknown[] | null => {
    const value = embed[name];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every(isSignature)) return bad(`embed.${name} must be null or a list of signatures ({"task": …})`);
    return value;
  };
  const chord = embed.chord ?? null;
  if (chord !== null && !isSignature(chord)) bad('embed.chord must be null or a signature ({"task": …})');
  return { callbacks: list('callbacks'), errbacks: list('errbacks'), chain: list('chain'), chord };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------
// Decoding task messages

const PICKLE = 'application/x-python-serialize';

/** Decodes a body to a value per its content type, or throws the matching ProtocolError. */
export function decodeBody(
  body: Buffer,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  ctx: { taskId?: string | undefined; taskName?: string | undefined } = {},
): unknown {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === PICKLE) {
    throw new ProtocolError(
      'UNSUPPORTED_CONTENT_TYPE',
      `pickle is refused: it would run arbitrary code; publish with serializer='json' (content type ${PICKLE})`,
      ctx,
    );
  }
  if (type === MSGPACK_CONTENT_TYPE) {
    try {
      return decodeMsgpack(body);
    } catch (error) {
      if (error instanceof ProtocolError) throw new ProtocolError(error.code, error.message, { ...ctx, cause: error.cause });
      throw error;
    }
  }
  // A missing content type is read as JSON: every Celery serializer sets one, and JSON
  // is the default, so nothing else can be meant.
  if (type !== JSON_CONTENT_TYPE && type !== '') {
    const name = type === 'application/x-yaml' ? 'yaml' : type;
    throw new ProtocolError('UNSUPPORTED_CONTENT_TYPE', `content type ${JSON.stringify(contentType)} (${name}) is not supported; publish with serializer='json'`, ctx);
  }
  const encoding = (contentEncoding ?? UTF8).toLowerCase();
  if (encoding !== 'utf-8' && encoding !== 'utf8' && encoding !== 'binary') {
    throw new ProtocolError('UNSUPPORTED_CONTENT_TYPE', `content encoding ${JSON.stringify(contentEncoding)} is not supported; JSON bodies are utf-8`, ctx);
  }
  let text: string;
  try {
    text = STRICT_UTF8.decode(body);
  } catch (error) {
    throw new ProtocolError('NOT_JSON', 'body is not valid UTF-8', { ...ctx, cause: error });
  }
  try {
    return decodeJson(text);
  } catch (error) {
    if (error instanceof ProtocolError) throw new ProtocolError(error.code, error.message, { ...ctx, cause: error.cause });
    throw error;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeTaskMessage(msg: IncomingMessage, options: DecodeOptions = {}): TaskRequest {
  if (typeof msg !== 'object' || msg === null || !(msg.body instanceof Uint8Array)) {
    throw new ProtocolError('BAD_BODY', 'message has no body buffer');
  }
  const headers = normalizeHeaders(msg.headers);
  const ctx = {
    taskId: typeof headers['id'] === 'string' ? headers['id'] : undefined,
    taskName: typeof headers['task'] === 'string' ? headers['task'] : undefined,
  };
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (msg.body.length > maxBody) {
    throw new ProtocolError('TOO_LARGE', `body of ${msg.body.length} bytes exceeds the limit of ${maxBody} bytes`, ctx);
  }
  const body = decodeBody(Buffer.from(msg.body.buffer, msg.body.byteOffset, msg.body.byteLength), msg.contentType, msg.contentEncoding, ctx);
  const common = {
    replyTo: typeof msg.replyTo === 'string' ? msg.replyTo : null,
    correlationId: typeof msg.correlationId === 'string' ? msg.correlationId : null,
    priority: typeof msg.priority === 'number' ? msg.priority : null,
    deliveryInfo: msg.deliveryInfo ?? null,
  };
  if (Object.hasOwn(headers, 'task')) return decodeV2(headers, body, common, ctx);
  if (isPlainObject(body) && Object.hasOwn(body, 'task')) return decodeV1(headers, body, common);
  throw new ProtocolError(
    'NOT_A_TASK',
    'neither a v2 task (no "task" header) nor a v1 task (body is not an object with "task"); Python rejects it as an unknown message',
    ctx,
  );
}

type Common = Pick<TaskRequest, 'replyTo' | 'correlationId' | 'priority' | 'deliveryInfo'>;
type Ctx = { taskId?: string | undefined; taskName?: string | undefined };

function decodeV2(headers: Record<string, unknown>, body: unknown, common: Common, ctx: Ctx): TaskRequest {
  let args: unknown;
  let kwargs: unknown;
  let embedRaw: unknown;
  let source = headers;
  if (Array.isArray(body)) {
    if (body.length !== 3) {
      throw new ProtocolError('BAD_BODY', `v2 body must be [args, kwargs, embed], got a list of ${body.length} elements`, ctx);
    }
    [args, kwargs, embedRaw] = body;
  } else if (isPlainObject(body) && Object.hasOwn(body, 'args')) {
    // Hybrid v1/v2 (celery.worker.strategy.hybrid_to_proto2): body keys first, headers win.
    args = body['args'];
    kwargs = Object.hasOwn(body, 'kwargs') ? body['kwargs'] : {};
    embedRaw = { callbacks: body['callbacks'] ?? null, errbacks: body['errbacks'] ?? null, chord: body['chord'] ?? null, chain: null };
    source = { ...pick(body, ['lang', 'task', 'id', 'root_id', 'parent_id', 'group', 'shadow', 'eta', 'expires', 'retries', 'timelimit', 'argsrepr', 'kwargsrepr', 'origin']) };
    for (const key of Object.keys(headers)) setOwn(source, key, headers[key]);
  } else {
    const what = isPlainObject(body) ? 'an object without "args"' : describe(body);
    throw new ProtocolError('BAD_BODY', `v2 body must be [args, kwargs, embed], got ${what}`, ctx);
  }
  const fields = readHeaderFields(source, ctx, 2);
  return {
    protocol: 2,
    ...fields,
    ...readArgs(args, kwargs, ctx),
    embed: readEmbed(embedRaw, ctx),
    argsrepr: typeof source['argsrepr'] === 'string' ? source['argsrepr'] : '',
    kwargsrepr: typeof source['kwargsrepr'] === 'string' ? source['kwargsrepr'] : '',
    utc: true,
    ...common,
    headers,
  };
}

function decodeV1(headers: Record<string, unknown>, body: Record<string, unknown>, common: Common): TaskRequest {
  const ctx = {
    taskId: typeof body['id'] === 'string' ? body['id'] : undefined,
    taskName: typeof body['task'] === 'string' ? body['task'] : undefined,
  };
  // proto1_to_proto2: `taskset` is the old name of `group`.
  const source: Record<string, unknown> = Object.hasOwn(body, 'taskset') && body['taskset'] != null ? { ...body, group: body['taskset'] } : body;
  const fields = readHeaderFields(source, ctx, 1);
  const { args, kwargs } = readArgs(Object.hasOwn(body, 'args') ? body['args'] : [], Object.hasOwn(body, 'kwargs') ? body['kwargs'] : {}, ctx);
  const utc = body['utc'] ?? true;
  if (typeof utc !== 'boolean') throw new ProtocolError('BAD_BODY', 'v1 "utc" must be a boolean', ctx);
  return {
    protocol: 1,
    ...fields,
    args,
    kwargs,
    embed: readEmbed({ callbacks: body['callbacks'] ?? null, errbacks: body['errbacks'] ?? null, chord: body['chord'] ?? null, chain: null }, ctx),
    // Python's worker computes them for v1 messages.
    argsrepr: safeRepr(args),
    kwargsrepr: safeRepr(kwargs),
    utc,
    ...common,
    headers,
  };
}

type HeaderFields = Pick<
  TaskRequest,
  'id' | 'task' | 'eta' | 'expires' | 'retries' | 'timeLimit' | 'rootId' | 'parentId' | 'group' | 'groupIndex' | 'shadow' | 'origin' | 'ignoreResult'
>;

function readHeaderFields(src: Record<string, unknown>, ctx: Ctx, protocol: 1 | 2): HeaderFields {
  const where = protocol === 2 ? 'header' : 'body key';
  const code = protocol === 2 ? 'BAD_HEADER' : 'BAD_BODY';
  const fail = (why: string): never => {
    throw new ProtocolError(code, why, ctx);
  };
  const requiredString = (key: string): string => {
    if (!Object.hasOwn(src, key) || src[key] === undefined) {
      throw new ProtocolError(protocol === 2 ? 'MISSING_HEADER' : 'BAD_BODY', `the "${key}" ${where} is missing`, ctx);
    }
    const value = src[key];
    if (typeof value !== 'string' || value === '') return fail(`the "${key}" ${where} must be a non-empty string, got ${describe(value)}`);
    return value;
  };
  const optionalString = (key: string): string | null => {
    const value = src[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') return fail(`the "${key}" ${where} must be a string or null, got ${describe(value)}`);
    return value;
  };
  const isoString = (key: string): string | null => {
    // Not even '' passes: Celery 5.2's Request crashes on an empty eta (maybe_iso8601 gives
    // None, maybe_make_aware(None) raises AttributeError outside its try).
    const value = optionalString(key);
    if (value !== null && parseIso(value) === null) return fail(`the "${key}" ${where} is not an ISO 8601 date-time: ${JSON.stringify(value.slice(0, 64))}`);
    return value;
  };
  const task = requiredString('task');
  const id = requiredString('id');
  const retriesRaw = src['retries'] ?? 0;
  if (typeof retriesRaw !== 'number' || !Number.isSafeInteger(retriesRaw) || retriesRaw < 0) {
    fail(`the "retries" ${where} must be a non-negative integer, got ${describe(retriesRaw)}`);
  }
  const groupIndex = src['group_index'] ?? null;
  if (groupIndex !== null && !(typeof groupIndex === 'number' && Number.isSafeInteger(groupIndex) && groupIndex >= 0)) {
    fail(`the "group_index" ${where} must be a non-negative integer or null, got ${describe(groupIndex)}`);
  }
  const limit = src['timelimit'] ?? [null, null];
  if (!Array.isArray(limit) || limit.length !== 2 || !limit.every(isLimit)) {
    fail(`the "timelimit" ${where} must be [hard, soft] with numbers or null, got ${describe(limit)}`);
  }
  const ignoreResult = src['ignore_result'] ?? false;
  if (typeof ignoreResult !== 'boolean') fail(`the "ignore_result" ${where} must be a boolean, got ${describe(ignoreResult)}`);
  const rootId = optionalString('root_id');
  return {
    id,
    task,
    eta: isoString('eta'),
    expires: isoString('expires'),
    retries: retriesRaw as number,
    timeLimit: [(limit as (number | null)[])[0] ?? null, (limit as (number | null)[])[1] ?? null],
    rootId,
    parentId: optionalString('parent_id'),
    group: optionalString('group'),
    groupIndex: groupIndex as number | null,
    shadow: optionalString('shadow'),
    origin: optionalString('origin'),
    ignoreResult: ignoreResult as boolean,
  };
}

function readArgs(args: unknown, kwargs: unknown, ctx: Ctx): { args: unknown[]; kwargs: Record<string, unknown> } {
  if (!Array.isArray(args)) throw new ProtocolError('BAD_BODY', `args must be a list, got ${describe(args)}`, ctx);
  if (!isPlainObject(kwargs)) throw new ProtocolError('BAD_BODY', `kwargs must be a mapping, got ${describe(kwargs)}`, ctx);
  return { args, kwargs };
}

function readEmbed(raw: unknown, ctx: Ctx): Embed {
  if (raw === null || raw === undefined) return { callbacks: null, errbacks: null, chain: null, chord: null };
  if (!isPlainObject(raw)) throw new ProtocolError('BAD_BODY', `embed must be a mapping, got ${describe(raw)}`, ctx);
  const list = (key: 'callbacks' | 'errbacks' | 'chain'): unknown[] | null => {
    const value = raw[key];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every(isSignature)) {
      throw new ProtocolError('BAD_BODY', `embed.${key} must be null or a list of signatures ({"task": …}), got ${describe(value)}`, ctx);
    }
    return value;
  };
  const chord = raw['chord'] ?? null;
  if (chord !== null && !isSignature(chord)) throw new ProtocolError('BAD_BODY', `embed.chord must be null or a signature, got ${describe(chord)}`, ctx);
  return { callbacks: list('callbacks'), errbacks: list('errbacks'), chain: list('chain'), chord };
}

function isSignature(value: unknown): boolean {
  return isPlainObject(value) && typeof value['task'] === 'string';
}

/** A header table as amqplib hands it over, with AMQP byte arrays (`x`) read as UTF-8 text. */
function normalizeHeaders(raw: unknown): Record<string, unknown> {
  if (raw === null || raw === undefined) return {};
  // Any non-array object, own keys only: amqplib's decoder assigns `fields[key] = value`,
  // so a "__proto__" header arrives as a table whose prototype was replaced; nothing
  // inherited from it is read.
  if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) {
    throw new ProtocolError('BAD_HEADER', `headers must be a table, got ${describe(raw)}`);
  }
  return normalizeValue(raw, 0) as Record<string, unknown>;
}

function normalizeValue(value: unknown, depth: number): unknown {
  if (depth > 64) throw new ProtocolError('BAD_HEADER', 'headers are nested too deeply');
  if (value instanceof Uint8Array) {
    try {
      return STRICT_UTF8.decode(value);
    } catch {
      // Binary that is not text stays bytes; a known header holding it fails its type check.
      return new Uint8Array(value);
    }
  }
  if (Array.isArray(value)) return value.map((item) => normalizeValue(item, depth + 1));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      setOwn(out, key, normalizeValue((value as Record<string, unknown>)[key], depth + 1));
    }
    return out;
  }
  return value;
}

function pick(record: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (Object.hasOwn(record, key)) out[key] = record[key];
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

// ---------------------------------------------------------------------------------------
// Results

export interface ResultMeta {
  task_id: string;
  status: TaskState;
  result: unknown;
  traceback: string | null;
  children: unknown[] | null;
  date_done?: string | null;
  [key: string]: unknown;
}

/** The `result` of a FAILURE/RETRY/REVOKED meta, as `Backend.prepare_exception` writes it. */
export interface ExceptionInfo {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string | null;
}

export interface EncodedResult {
  body: Buffer;
  contentType: string;
  contentEncoding: string;
}

const RESULT_KEY_ORDER = ['task_id', 'status', 'result', 'traceback', 'children'] as const;

/** Body keys in Python's order (`task_id, status, result, traceback, children`, then extras). */
export function encodeResult(meta: ResultMeta, options: { typed?: boolean; serializer?: 'json' | 'msgpack' } = {}): EncodedResult {
  if (!isPlainObject(meta) || typeof meta.task_id !== 'string' || meta.task_id === '') {
    throw new ProtocolError('BAD_RESULT', 'result meta needs a non-empty task_id');
  }
  if (!TASK_STATES.includes(meta.status)) {
    throw new ProtocolError('BAD_RESULT', `unknown task state ${JSON.stringify(meta.status)}`, { taskId: meta.task_id });
  }
  const ordered: Record<string, unknown> = {
    task_id: meta.task_id,
    status: meta.status,
    result: meta.result ?? null,
    traceback: meta.traceback ?? null,
    children: meta.children ?? [],
  };
  for (const key of Object.keys(meta)) {
    if (!(RESULT_KEY_ORDER as readonly string[]).includes(key) && meta[key] !== undefined) {
      setOwn(ordered, key, meta[key]);
    }
  }
  if (options.serializer === 'msgpack') {
    try {
      return { body: encodeMsgpack(ordered), contentType: MSGPACK_CONTENT_TYPE, contentEncoding: BINARY };
    } catch (error) {
      throw new ProtocolError('BAD_RESULT', `cannot encode the result of ${meta.task_id}: ${error instanceof Error ? error.message : String(error)}`, {
        taskId: meta.task_id,
        cause: error,
      });
    }
  }
  let text: string;
  try {
    text = encodeJson(ordered, { typed: options.typed ?? false });
  } catch (error) {
    throw new ProtocolError('BAD_RESULT', `cannot encode the result of ${meta.task_id}: ${error instanceof Error ? error.message : String(error)}`, {
      taskId: meta.task_id,
      cause: error,
    });
  }
  return { body: Buffer.from(text, 'utf8'), contentType: JSON_CONTENT_TYPE, contentEncoding: UTF8 };
}

export function decodeResult(body: Buffer, contentType?: string, contentEncoding?: string): ResultMeta {
  let value: unknown;
  try {
    value = decodeBody(body, contentType, contentEncoding);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ProtocolError('BAD_RESULT', `result body unreadable: ${why}`, { cause: error });
  }
  if (!isPlainObject(value)) throw new ProtocolError('BAD_RESULT', `result body must be an object, got ${describe(value)}`);
  const taskId = value['task_id'];
  if (typeof taskId !== 'string' || taskId === '') throw new ProtocolError('BAD_RESULT', 'result body has no task_id');
  const status = value['status'];
  if (typeof status !== 'string' || !(TASK_STATES as readonly string[]).includes(status)) {
    throw new ProtocolError('BAD_RESULT', `result for ${taskId} has an unknown status ${describe(status)}`, { taskId });
  }
  const traceback = value['traceback'] ?? null;
  if (traceback !== null && typeof traceback !== 'string') throw new ProtocolError('BAD_RESULT', `result for ${taskId}: traceback must be a string or null`, { taskId });
  const children = value['children'] ?? null;
  if (children !== null && !Array.isArray(children)) throw new ProtocolError('BAD_RESULT', `result for ${taskId}: children must be a list or null`, { taskId });
  const dateDone = value['date_done'];
  if (dateDone !== undefined && dateDone !== null && typeof dateDone !== 'string') {
    throw new ProtocolError('BAD_RESULT', `result for ${taskId}: date_done must be a string or null`, { taskId });
  }
  const meta = value as ResultMeta;
  meta.result = value['result'] ?? null;
  meta.traceback = traceback;
  meta.children = children;
  return meta;
}

export function successMeta(taskId: string, value: unknown): ResultMeta {
  return { task_id: taskId, status: 'SUCCESS', result: value === undefined ? null : value, traceback: null, children: [] };
}

/** STARTED, as Python's worker sends it with `task_track_started`. */
export function startedMeta(taskId: string, pid: number, hostname: string): ResultMeta {
  return { task_id: taskId, status: 'STARTED', result: { pid, hostname }, traceback: null, children: [] };
}

/** Python's `NotRegistered` FAILURE for an unknown task name (captured from 5.2.6). */
export function notRegisteredMeta(taskId: string, name: string): ResultMeta {
  return {
    task_id: taskId,
    status: 'FAILURE',
    result: { exc_type: 'NotRegistered', exc_message: [name], exc_module: 'celery.exceptions' },
    traceback: null,
    children: [],
  };
}

/** REVOKED with `TaskRevokedError(reason)`, as `Backend.mark_as_revoked` stores it. */
export function revokedMeta(taskId: string, reason: 'revoked' | 'expired' | 'terminated' = 'revoked'): ResultMeta {
  return {
    task_id: taskId,
    status: 'REVOKED',
    result: { exc_type: 'TaskRevokedError', exc_message: [reason], exc_module: 'celery.exceptions' },
    traceback: null,
    children: [],
  };
}

/**
 * Python builtin exception classes a Python client can rebuild from one message argument:
 * the `builtins` namespace's. A JS error with one of these names is sent as the builtin (so
 * `except ValueError` works on the Python side). BaseException is left out, as SystemExit,
 * KeyboardInterrupt and GeneratorExit are from the namespace: a JS error that merely has
 * that name is no reason for a Python caller to raise something `except Exception` misses.
 */
const PYTHON_BUILTIN_EXCEPTIONS: ReadonlySet<string> = new Set(
  Object.values(pythonBuiltins)
    .map((cls) => cls.pythonQualname)
    .filter((name) => name !== 'BaseException'),
);

/**
 * Where JS error classes live for Python: a module no Python client imports, so
 * `exception_to_python` synthesizes `celery.exceptions.<Name>` (an Exception subclass)
 * instead of resolving a real attribute (which could be a non-exception → SecurityError,
 * and the reply would be lost; captures README §3b).
 */
export const JS_EXCEPTION_MODULE = 'celery_gen.errors';

const PY_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `{exc_type, exc_message, exc_module}` for anything a handler threw. */
export function exceptionInfo(error: unknown): ExceptionInfo {
  if (error instanceof TaskError) {
    // A Python failure passing through a TS handler keeps its Python identity.
    return { exc_type: error.excType, exc_message: [...error.excMessage], exc_module: error.excModule };
  }
  if (error instanceof Error) {
    const pythonType = (error as { pythonType?: unknown }).pythonType;
    // `class MyError extends Error {}` keeps name 'Error'; its class name is what Python should see.
    const ctorName = (error.constructor as { name?: unknown } | undefined)?.name;
    const rawName =
      typeof pythonType === 'string'
        ? pythonType
        : error.name === 'Error' && typeof ctorName === 'string' && PY_IDENTIFIER.test(ctorName)
          ? ctorName
          : error.name;
    const name = PY_IDENTIFIER.test(rawName) ? rawName : 'Error';
    return {
      exc_type: name,
      exc_message: error.message === '' ? [] : [error.message],
      exc_module: PYTHON_BUILTIN_EXCEPTIONS.has(name) ? 'builtins' : JS_EXCEPTION_MODULE,
    };
  }
  const text = typeof error === 'string' ? error : safeStringify(error);
  return { exc_type: 'Exception', exc_message: [text], exc_module: 'builtins' };
}

export function failureMeta(taskId: string, error: unknown): ResultMeta {
  const info = exceptionInfo(error);
  return { task_id: taskId, status: 'FAILURE', result: info, traceback: pythonTraceback(error, info), children: [] };
}

/** RETRY, as a Python worker reports `self.retry(exc=…)`: the exception, and the task itself as child. */
export function retryMeta(taskId: string, error: unknown, countdownSeconds: number | null): ResultMeta {
  const info = exceptionInfo(error);
  const when = countdownSeconds === null ? '' : ` in ${countdownSeconds}s`;
  const reason = `celery.exceptions.Retry: Retry${when}: ${excRepr(info.exc_type, info.exc_message)}`;
  const tb = `${(pythonTraceback(error, info) ?? '').replace(/\n[^\n]*\n$/, '\n')}${reason}\n`;
  return { task_id: taskId, status: 'RETRY', result: info, traceback: tb, children: [[[taskId, null], null]] };
}

/**
 * A Python-style traceback carrying the JS stack, so `AsyncResult.traceback` on the
 * Python side shows where the TS handler failed.
 */
export function pythonTraceback(error: unknown, info: ExceptionInfo = exceptionInfo(error)): string {
  if (error instanceof TaskError && error.traceback !== null) return error.traceback;
  const frames: string[] = [];
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : '';
  for (const line of stack.split('\n')) {
    // Frames are short; a long line is the error message itself (and the lazy groups below
    // would be quadratic on it).
    if (line.length > 2000) continue;
    const m = /^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/.exec(line);
    if (m) frames.push(`  File "${m[2]}", line ${m[3]}, in ${m[1] ?? '<anonymous>'}\n`);
  }
  frames.reverse(); // Python prints the most recent call last
  const message = info.exc_message.map((m) => (typeof m === 'string' ? m : safeStringify(m))).join(', ');
  return `Traceback (most recent call last):\n${frames.join('')}${info.exc_type}${message === '' ? '' : `: ${message}`}\n`;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Circular values and BigInts: String() still says something.
    return String(value);
  }
}

/** The TaskError a FAILURE/REVOKED meta describes (lenient: any shape gives a readable error). */
export function taskErrorFromMeta(meta: ResultMeta): TaskError {
  const result = meta.result;
  let excType = 'Exception';
  let excMessage: unknown[] = [];
  let excModule: string | null = null;
  if (isPlainObject(result) && typeof result['exc_type'] === 'string') {
    excType = result['exc_type'];
    const message = result['exc_message'];
    excMessage = Array.isArray(message) ? message : message === undefined || message === null ? [] : [message];
    excModule = typeof result['exc_module'] === 'string' ? result['exc_module'] : null;
  } else if (meta.status === 'REVOKED') {
    excType = 'TaskRevokedError';
    excModule = 'celery.exceptions';
    excMessage = ['revoked'];
  } else if (result !== null && result !== undefined) {
    excMessage = [typeof result === 'string' ? result : safeStringify(result)];
  }
  return new TaskError({ taskId: meta.task_id, state: meta.status, excType, excMessage, excModule, traceback: meta.traceback ?? null });
}
