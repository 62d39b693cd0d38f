/**
 * AMQP header tables with the field types Python sends.
 *
 * amqplib guesses a table integer's tag from its size: `b` (int8) for -128..127, `s`
 * (int16) up to ±32767, `I` (int32), `l` (int64). py-amqp 5.1 reads `s` as a *short
 * string* and `b` as *unsigned*, so `retries: 200` or `timelimit: [300, 200]` written by
 * amqplib's guess makes a Python worker fail inside its frame decoder and reconnect
 * forever on the same message (captures README §9). Python itself writes every int as
 * `I` (int32) or, outside int32, `L` (int64) (captures `wire-header-types.json`).
 *
 * `toWireHeaders` pins every integer, at any depth of arrays and nested tables, with
 * amqplib's `{'!': type, value}` trapdoor:
 * - int32 range → `{'!': 'int32'}` → tag `I`, byte-identical to Python.
 * - larger non-negative (< 2^63) → `{'!': 'int64'}` → tag `l`. amqplib cannot write `L`;
 *   py-amqp reads `l` as *unsigned* 64-bit, which is the same value for n >= 0
 *   (verified in the captures: `retries: 2**40` as `l` runs fine).
 * - negative below int32 → `{'!': 'double'}` → tag `d`: `l` would read back as 2^64 - |n|
 *   on the Python side; a float keeps the value (Python sees `-5000000000.0`).
 * - integers at or beyond 2^63 in magnitude → `d`, as amqplib itself would.
 * - non-integral and non-finite numbers → `d`, as Python writes floats.
 *
 * The reverse direction is not ours to fix: amqplib's `decodeFields` has no case for `L`,
 * so a header int outside int32 from Python (`retries=2**40`, a huge custom header) makes
 * amqplib throw `Unexpected type tag "L"` while parsing the content header. amqplib emits
 * that as a `frameError` and closes the whole connection with an error; the unacked
 * message is redelivered, so a consumer that reconnects meets it again: the mirror image of
 * py-amqp's loop on amqplib's int16. Celery itself never sends such values by default
 * (retries, group_index, timelimit, clock are small), and test/wire-headers.test.ts pins
 * the limitation so an amqplib upgrade that fixes it shows up.
 */
import { ProtocolError } from './errors.js';
import { setOwn } from './own-property.js';

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const INT64_LIMIT = 2 ** 63;

/** An amqplib explicitly typed field value. */
export interface TypedFieldValue {
  readonly '!': 'int32' | 'int64' | 'double';
  readonly value: number;
}

export function toWireHeaders(headers: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return wireTable(headers, undefined);
}

/** One header's value as toWireHeaders writes it (for tables built key by key in a fixed order). */
export function toWireHeaderValue(key: string, value: unknown): unknown {
  return value === undefined ? undefined : wireValue(value, undefined, key);
}

/**
 * Where a value sits (`headers.timelimit[0]`), for error messages only: a linked list of
 * keys and indexes, turned into text when something is refused, so encoding a good table
 * builds no path strings.
 */
interface WirePath {
  readonly parent: WirePath | undefined;
  readonly segment: string | number;
}

function pathText(path: WirePath | undefined): string {
  let text = '';
  for (let at = path; at !== undefined; at = at.parent) text = (typeof at.segment === 'number' ? `[${at.segment}]` : `.${at.segment}`) + text;
  return `headers${text}`;
}

// A UTF-8 byte is at most 3 per UTF-16 unit: keys this short cannot pass 255 bytes.
const SURELY_SHORT_KEY = Math.floor(255 / 3);

function wireTable(table: Readonly<Record<string, unknown>>, path: WirePath | undefined): Record<string, unknown> {
  // An ordinary object (amqplib calls value.hasOwnProperty on every table); setOwn keeps a
  // "__proto__" header key an ordinary own key.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(table)) {
    const value = table[key];
    if (value === undefined) continue;
    if (key.length > SURELY_SHORT_KEY && Buffer.byteLength(key) > 255) {
      throw new ProtocolError('BAD_HEADER', `header key ${JSON.stringify(key.slice(0, 40))}… is longer than AMQP's 255 bytes`);
    }
    setOwn(out, key, wireValue(value, path, key));
  }
  return out;
}

/** `value`, found at `segment` under `parent`, with its integers pinned. */
function wireValue(value: unknown, parent: WirePath | undefined, segment: string | number): unknown {
  switch (typeof value) {
    case 'number':
      return wireNumber(value);
    case 'bigint':
      if (value >= BigInt(INT32_MIN) && value <= BigInt(INT32_MAX)) return { '!': 'int32', value: Number(value) };
      if (value >= 0n && value < 2n ** 63n) return { '!': 'int64', value: Number(value) };
      return { '!': 'double', value: Number(value) };
    case 'string':
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      const path: WirePath = { parent, segment };
      if (Array.isArray(value)) {
        return value.map((item, i) => wireValue(item, path, i));
      }
      if (value instanceof Date) return value.toISOString();
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
        // py-amqp turns `x` into Python bytes, e.g. a task name would become b'…'.
        throw new ProtocolError('BAD_HEADER', `${pathText(path)} is binary; Python reads AMQP byte arrays as bytes: send a string`);
      }
      if (Object.hasOwn(value, 'hasOwnProperty')) {
        // amqplib calls value.hasOwnProperty('!') on every object it encodes.
        throw new ProtocolError('BAD_HEADER', `${pathText(path)} has a key "hasOwnProperty", which amqplib cannot encode`);
      }
      if (isTypedFieldValue(value)) return value; // already pinned: toWireHeaders is idempotent
      if (Object.hasOwn(value, '!')) {
        // amqplib would take the object for its own {'!': type} trapdoor.
        throw new ProtocolError('BAD_HEADER', `${pathText(path)} has a key "!", which amqplib reserves for typed values`);
      }
      return wireTable(value as Record<string, unknown>, path);
    }
    default:
      throw new ProtocolError('BAD_HEADER', `${pathText({ parent, segment })} is a ${typeof value}, which an AMQP header cannot carry`);
  }
}

const TYPED_TAGS = new Set(['int32', 'int64', 'double']);

function isTypedFieldValue(value: object): value is TypedFieldValue {
  const keys = Object.keys(value);
  const record = value as Record<string, unknown>;
  return keys.length === 2 && TYPED_TAGS.has(record['!'] as string) && typeof record['value'] === 'number';
}

function wireNumber(n: number): unknown {
  // Pinned too: amqplib's own guess writes NaN and huge non-integral values as `l` (or throws).
  if (!Number.isInteger(n)) return { '!': 'double', value: n };
  if (n >= INT32_MIN && n <= INT32_MAX) return { '!': 'int32', value: n };
  if (n >= 0 && n < INT64_LIMIT) return { '!': 'int64', value: n };
  return { '!': 'double', value: n };
}
