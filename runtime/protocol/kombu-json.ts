/**
 * JSON exactly as kombu speaks it, both directions.
 *
 * Encoding writes the bytes Python's `json.dumps` (kombu's default settings) writes:
 * `", "` and `": "` separators, `ensure_ascii` escaping (non-ASCII as lowercase `\uXXXX`,
 * astral characters as surrogate pairs), Python float spelling (`1e-05`, `1.5e+16`),
 * `NaN`/`Infinity` as Python emits them. So a body we publish is byte-identical to the
 * one Python publishes for the same values (checked against the real kombu on random
 * values). JS numbers cannot tell `3` from `3.0`: integral values go out as Python ints.
 * A `Date` goes out as kombu 5.2 writes an aware UTC datetime (`2024-05-06T07:08:09.123000Z`),
 * or, in typed mode, as the 5.3+ `datetime` envelope with `+00:00`. A `Uint8Array` needs
 * typed mode (`bytes`, or `base64` when not UTF-8): kombu 5.2's JSON has no bytes at all.
 *
 * Decoding accepts both kombu dialects:
 * - kombu 5.2: plain JSON; datetimes, Decimals and UUIDs arrive as strings already.
 * - kombu 5.3+: `{"__type__": marker, "__value__": v}` envelopes (only objects whose key
 *   set is exactly those two, as kombu's `object_hook` checks), converted to the values
 *   the generated types promise:
 *     datetime → the `__value__` ISO text unchanged (`2024-05-06T07:08:09.123456+00:00`;
 *                5.2 peers send the same instant as `…123456Z`: both are ISO 8601 and
 *                `new Date()` reads both; we do not rewrite, so nothing is lost),
 *     date     → the ISO date text (`2024-05-06`; 5.2 sends a midnight datetime
 *                `2024-05-06T00:00:00` instead, which we cannot tell from a datetime),
 *     time     → the ISO time text (`07:08:09.000500`, as 5.2 sends it),
 *     decimal  → its text (`3.14`, as 5.2 sends it),
 *     uuid     → the canonical dashed lowercase UUID (as 5.2 sends it),
 *     bytes / base64 → `Uint8Array`.
 *   An unknown marker is a BAD_BODY ProtocolError, as kombu raises on it.
 * `__proto__` keys stay own data properties (JSON.parse defines them; the envelope walk
 * never assigns through a setter), so a message cannot reach any prototype.
 */
import { ProtocolError } from './errors.js';
import { setOwn } from './own-property.js';

export interface EncodeJsonOptions {
  /**
   * Emit kombu 5.3+ typed envelopes: `Date` → `datetime`, `Uint8Array` → `bytes`/`base64`.
   * Off by default, because kombu 5.2 peers would hand the envelope dicts to the task.
   */
  readonly typed: boolean;
}

const KNOWN_MARKERS = new Set(['datetime', 'date', 'time', 'decimal', 'uuid', 'bytes', 'base64']);

/**
 * Python's json module gives up (RecursionError) at about 1000 levels of nesting, so no
 * peer can read deeper values and none can send them; past this depth we refuse too,
 * rather than overflow the JS stack.
 */
export const MAX_JSON_DEPTH = 1000;

// ---------------------------------------------------------------------------------------
// Encoding

export function encodeJson(value: unknown, options: EncodeJsonOptions = { typed: false }): string {
  return writeValue(value, { typed: options.typed, seen: new Set<object>(), path: [] }, 0);
}

/**
 * The walk's state. `path` holds the keys and indexes from the top down to the value being
 * written; it is turned into text (`$[0].a`) only for an error message, so the hot path
 * builds no strings per value.
 */
interface WriteState {
  readonly typed: boolean;
  readonly seen: Set<object>;
  readonly path: (string | number)[];
}

function pathText(state: WriteState): string {
  let text = '$';
  for (const segment of state.path) text += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  return text;
}

function writeValue(value: unknown, state: WriteState, depth: number): string {
  if (depth > MAX_JSON_DEPTH) throw new TypeError(`cannot send a value nested more than ${MAX_JSON_DEPTH} levels deep as JSON: Python's json cannot read it`);
  switch (typeof value) {
    case 'string':
      return quotePython(value);
    case 'number':
      return pythonNumber(value);
    case 'bigint':
      // Python ints are unbounded: the digits are the exact value.
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      // Only reachable for array items and the top level: JSON.stringify's choice.
      return 'null';
    case 'function':
    case 'symbol':
      throw new TypeError(`cannot send a ${typeof value} as JSON (at ${pathText(state)})`);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (value instanceof Date) {
    if (!isPythonDate(value)) throw new TypeError(`cannot send ${describeDate(value)} as JSON (at ${pathText(state)}): Python datetimes span years 1 to 9999`);
    // kombu 5.2 writes an aware UTC datetime as isoformat() with `+00:00` turned into `Z`.
    return state.typed ? `{"__type__": "datetime", "__value__": ${quotePython(pythonIsoFormat(value, '+00:00'))}}` : quotePython(pythonIsoFormat(value, 'Z'));
  }
  if (value instanceof Uint8Array) {
    if (!state.typed) {
      throw new TypeError(
        `cannot send bytes (Uint8Array at ${pathText(state)}) as JSON to a kombu 5.2 peer: kombu 5.2's JSON has no bytes type ` +
          "(Python raises 'Object of type bytes is not JSON serializable'). Enable typed JSON for kombu >= 5.3 peers, " +
          'or encode the bytes yourself (base64 text).',
      );
    }
    const text = utf8OrNull(value);
    return text === null
      ? `{"__type__": "base64", "__value__": ${quotePython(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'))}}`
      : `{"__type__": "bytes", "__value__": ${quotePython(text)}}`;
  }
  const { seen } = state;
  if (seen.has(obj)) throw new TypeError(`cannot send a circular structure as JSON (at ${pathText(state)})`);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    seen.add(obj);
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ', ';
      out += writeItem(value[i], i, state, depth);
    }
    seen.delete(obj);
    return out + ']';
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return writeValue((toJSON as () => unknown).call(value), state, depth + 1);
  const proto = Object.getPrototypeOf(obj) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const kind = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
    throw new TypeError(`cannot send a ${kind} as JSON (at ${pathText(state)}): use plain objects, arrays and primitives`);
  }
  const record = value as Record<string, unknown>;
  const keys: string[] = [];
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (item !== undefined && typeof item !== 'function') keys.push(key);
  }
  if (keys.length === 0) return '{}';
  if (keys.length === 2 && keys.includes('__type__') && keys.includes('__value__')) {
    const marker = record['__type__'];
    if (typeof marker !== 'string' || !KNOWN_MARKERS.has(marker)) {
      throw new TypeError(
        `refusing to send an object with exactly the keys __type__ and __value__ (at ${pathText(state)}): kombu >= 5.3 reads it as ` +
          `a typed value and drops the whole message for the unknown marker ${JSON.stringify(marker)}`,
      );
    }
  }
  seen.add(obj);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) out += ', ';
    out += quotePython(key) + ': ';
    out += writeItem(record[key], key, state, depth);
  }
  seen.delete(obj);
  return out + '}';
}

/** An array item or object value at `segment` of the container being written. */
function writeItem(item: unknown, segment: string | number, state: WriteState, depth: number): string {
  const scalar = scalarJson(item);
  if (scalar !== undefined) return scalar;
  state.path.push(segment);
  const out = writeValue(item, state, depth + 1);
  state.path.pop();
  return out;
}

/**
 * The text of a string, null, boolean or number, as writeValue writes it; undefined
 * for anything else. Container loops call it before recursing: most items in task messages
 * (ids, names, small ints, nulls) are such scalars, and skipping the recursion, its checks
 * and the path bookkeeping roughly halves the cost of encoding a header table or a body.
 */
export function scalarJson(value: unknown): string | undefined {
  if (typeof value === 'string') return quotePython(value);
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pythonNumber(value);
  return undefined;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

// Python's ESCAPE_ASCII: `"`, `\` and everything outside ' '..'~' is escaped.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\]|[^\x20-\x7e]/g;
// eslint-disable-next-line no-control-regex
const HAS_ESCAPE = /["\\]|[^\x20-\x7e]/;

/** A JSON string literal as Python's `json.dumps(ensure_ascii=True)` writes it. */
export function quotePython(text: string): string {
  // Most strings (header keys, task names, ids, ASCII arguments) need no escape: skip the
  // replace. Short ones are checked by a loop, which costs less than a regex call.
  if (text.length <= 64 ? isPlainAscii(text) : !HAS_ESCAPE.test(text)) return `"${text}"`;
  return `"${text.replace(NEEDS_ESCAPE, (ch) => SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** Whether every character is in ' '..'~' and none is `"` or `\\` (what HAS_ESCAPE looks for). */
function isPlainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** A JS number as Python's `json.dumps` writes it (`int.__str__` / `float.__repr__`, NaN, Infinity). */
export function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return finiteNumberRepr(n);
}

/**
 * `int.__str__` for integral values below 1e21, else `float.__repr__` of a finite number.
 * JS numbers are doubles and cannot tell `3` from `3.0`: integral values go out as ints.
 * Beyond 2^53 the digits are JS's shortest round-trip ones, which give back the digits a
 * Python int had whenever it had at most 17 significant digits (JSON.parse already
 * rounded it, as every JS JSON reader does). From 1e21 up, integral values are written as
 * floats, as JS itself prints them. Use a bigint for exact big integers.
 */
export function finiteNumberRepr(n: number): string {
  if (Object.is(n, -0)) return '-0.0';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  // Shortest round-trip digits, as both languages use; only the layout differs:
  // Python switches to exponent form below 1e-4 and from 1e16, with 2+ exponent digits.
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** Whether Python's datetime can hold the instant (years 1..9999). */
export function isPythonDate(date: Date): boolean {
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 1 && year <= 9999;
}

function describeDate(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'an invalid Date' : `the Date ${date.toISOString()}`;
}

/** `datetime.isoformat()` of a UTC instant: microseconds only when non-zero (6 digits). */
export function pythonIsoFormat(date: Date, utcSuffix: 'Z' | '+00:00'): string {
  const iso = date.toISOString(); // 2024-05-06T07:08:09.123Z (years 0-9999 only, like Python)
  const base = iso.slice(0, 19);
  const ms = date.getUTCMilliseconds();
  const fraction = ms === 0 ? '' : `.${String(ms).padStart(3, '0')}000`;
  return `${base}${fraction}${utcSuffix}`;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    // Not UTF-8: kombu 5.3+ falls back to the base64 envelope; the caller does too.
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// Decoding

/**
 * Parses kombu JSON text. Throws ProtocolError NOT_JSON for text that is not JSON (Python
 * extensions `NaN`, `Infinity`, `-Infinity` are accepted, as Python's json.loads does),
 * BAD_BODY for a malformed or unknown typed envelope.
 */
export function decodeJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    value = parsePythonJson(text, error);
  }
  // Cheap pre-check: a key spelled with \u escapes could hide "__type__", so any escape
  // in the text sends it through the walk too.
  if (typeof value === 'object' && value !== null && (text.includes('__type__') || text.includes('\\u'))) {
    return reviveEnvelopes(value);
  }
  return value;
}

/** Replaces every typed envelope below `root` (post-order, as kombu's object_hook). */
function reviveEnvelopes(root: unknown): unknown {
  const visit = (value: unknown, depth: number): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (depth > MAX_JSON_DEPTH) throw new ProtocolError('BAD_BODY', `body is nested more than ${MAX_JSON_DEPTH} levels deep (Python's json cannot read it either)`);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'object' && item !== null) value[i] = visit(item, depth + 1);
      }
      return value;
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    for (const key of keys) {
      const item = record[key];
      if (typeof item === 'object' && item !== null) {
        const revived = visit(item, depth + 1);
        // setOwn, not assignment: a "__proto__" own key must stay a data property.
        if (revived !== item) setOwn(record, key, revived);
      }
    }
    if (keys.length === 2 && Object.hasOwn(record, '__type__') && Object.hasOwn(record, '__value__')) {
      return reviveEnvelope(record['__type__'], record['__value__']);
    }
    return value;
  };
  return visit(root, 0);
}

const HEX32 = /^[0-9a-f]{32}$/i;
// One character class and a length check: a grouped, repeated pattern overflows V8's
// regex stack on multi-megabyte values.
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (text: string): boolean => text.length % 4 === 0 && BASE64_CHARS.test(text);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function reviveEnvelope(marker: unknown, payload: unknown): unknown {
  const bad = (why: string): never => {
    throw new ProtocolError('BAD_BODY', `invalid kombu typed value {"__type__": ${JSON.stringify(marker)}}: ${why}`);
  };
  switch (marker) {
    case 'datetime':
    case 'date':
    case 'time':
    case 'decimal':
      if (typeof payload !== 'string') return bad('__value__ must be a string');
      return payload;
    case 'uuid': {
      // kombu calls uuid.UUID(**value): the value is a mapping such as {"hex": "…"}.
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        return bad('__value__ must be an object like {"hex": "<32 hex digits>"}');
      }
      const hexField = (payload as Record<string, unknown>)['hex'];
      if (Object.keys(payload).length !== 1 || typeof hexField !== 'string') return bad('only {"hex": …} UUIDs are supported');
      // uuid.UUID(hex=…) ignores braces, a urn:uuid: prefix and dashes.
      const hex = hexField.replace(/^urn:/, '').replace(/^uuid:/, '').replace(/[{}-]/g, '');
      if (!HEX32.test(hex)) return bad('hex must have 32 hex digits');
      const h = hex.toLowerCase();
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'bytes':
      if (typeof payload !== 'string') return bad('__value__ must be a string');
      if (LONE_SURROGATE.test(payload)) return bad('__value__ is not encodable as UTF-8 (lone surrogate)');
      return new Uint8Array(Buffer.from(payload, 'utf8'));
    case 'base64':
      if (typeof payload !== 'string' || !isBase64(payload)) return bad('__value__ must be base64 text');
      return new Uint8Array(Buffer.from(payload, 'base64'));
    default:
      return bad('unknown marker (kombu raises "Unsupported type" and drops such a message)');
  }
}

// Sticky: matched in place, without slicing the text.
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Fallback parser for what JSON.parse refuses but Python's json.loads accepts: the
 * `NaN`, `Infinity` and `-Infinity` tokens Python writes for non-finite floats. Anything
 * else that JSON.parse refused is NOT_JSON.
 */
function parsePythonJson(text: string, original: unknown): unknown {
  const notJson = (why: string): never => {
    throw new ProtocolError('NOT_JSON', `body is not JSON: ${why}`, { cause: original });
  };
  if (!/NaN|Infinity/.test(text)) return notJson(original instanceof Error ? original.message : String(original));
  let pos = 0;
  const ws = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === '\n' || text[pos] === '\r')) pos++;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) return notJson(`nested more than ${MAX_JSON_DEPTH} levels deep (Python's json cannot read it either)`);
    ws();
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') return notJson(`expected a key at ${pos}`);
        const key = str();
        ws();
        if (text[pos] !== ':') return notJson(`expected ':' at ${pos}`);
        pos++;
        setOwn(obj, key, value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        return notJson(`expected ',' or '}' at ${pos}`);
      }
    }
    if (ch === '[') {
      pos++;
      const arr: unknown[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        return notJson(`expected ',' or ']' at ${pos}`);
      }
    }
    if (ch === '"') return str();
    for (const [token, v] of [
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(token, pos)) {
        pos += token.length;
        return v;
      }
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m === null) return notJson(`unexpected character at ${pos}`);
    pos += m[0].length;
    return Number(m[0]);
  };
  const str = (): string => {
    // A scan, not a regex: a regex over a multi-megabyte string overflows V8's stack.
    const start = pos;
    let i = pos + 1;
    for (;;) {
      if (i >= text.length) return notJson(`unterminated string at ${start}`);
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) return notJson(`control character in string at ${i}`);
      i += c === 0x5c ? 2 : 1;
    }
    pos = i + 1;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch (error) {
      return notJson(`bad escape in string at ${start}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const result = value(0);
  ws();
  if (pos !== text.length) return notJson(`extra data at ${pos}`);
  return result;
}
