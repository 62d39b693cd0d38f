/**
 * Python `repr()` and Celery's `saferepr()` of JSON-ish values.
 *
 * Two different functions on purpose:
 * - `pyRepr` is CPython's `repr()`: strings quoted and escaped as Python does (`'it\'s'`
 *   becomes `"it's"`, `\n` escaped, non-printables as `\x..`/`\u....`). Events and
 *   exception reprs (`ValueError('bad value')`) use it.
 * - `safeRepr` is a port of `celery.utils.saferepr.saferepr` (5.2.6), which builds the
 *   `argsrepr`/`kwargsrepr` headers. It is *not* repr: strings are always single-quoted
 *   with only `'` escaped (a newline or NUL goes in raw: the captures show literal NUL
 *   characters in argsrepr), containers deeper than 3 levels become `[...]`, and text is
 *   cut at 1024 characters with Celery's `truncate` (back to the last space, then `...`).
 * Lengths count code points, as Python's `len(str)` does.
 *
 * JS → Python value mapping: null/undefined → None, booleans → True/False, numbers →
 * int or float spelling, bigint → int, string → str, Uint8Array → bytes, arrays → list,
 * plain objects → dict, Date → the ISO string that travels in its place.
 */
import { finiteNumberRepr, pythonIsoFormat } from './kombu-json.js';

/** Marks an array that Python holds as a tuple (`(2, 3)`, `(7,)`). */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

// ---------------------------------------------------------------------------------------
// repr()

export function pyRepr(value: unknown): string {
  return reprValue(value, new Set(), 0);
}

/** Deeper containers print as `[...]` (CPython would raise RecursionError; a repr must not). */
const MAX_REPR_DEPTH = 200;

/** `ValueError('bad value')`, `NotRegistered('proj.tasks.x')`. */
export function excRepr(excType: string, excArgs: readonly unknown[]): string {
  return `${excType}(${excArgs.map((a) => pyRepr(a)).join(', ')})`;
}

function reprValue(value: unknown, seen: Set<object>, depth: number): string {
  switch (typeof value) {
    case 'string':
      return reprStr(value);
    case 'number':
      return reprFloatOrInt(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'True' : 'False';
    case 'undefined':
      return 'None';
    case 'function':
      return `<function ${value.name || '<lambda>'}>`;
    case 'symbol':
      return `<${String(value)}>`;
  }
  if (value === null || typeof value !== 'object') return 'None';
  if (value instanceof Date) return reprStr(Number.isNaN(value.getTime()) ? 'Invalid Date' : pythonIsoFormat(value, 'Z'));
  if (value instanceof Uint8Array) return reprBytes(value);
  if (seen.has(value) || depth > MAX_REPR_DEPTH) return value instanceof PyTuple ? '(...)' : Array.isArray(value) ? '[...]' : '{...}';
  seen.add(value);
  try {
    if (value instanceof PyTuple) {
      const parts = value.items.map((v) => reprValue(v, seen, depth + 1));
      return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
    }
    if (Array.isArray(value)) return `[${value.map((v) => reprValue(v, seen, depth + 1)).join(', ')}]`;
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .map((k) => `${reprStr(k)}: ${reprValue(record[k], seen, depth + 1)}`)
      .join(', ')}}`;
  } finally {
    seen.delete(value);
  }
}

/** `float.__repr__` / `int.__repr__` spelling of a JS number. */
export function reprFloatOrInt(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return finiteNumberRepr(n);
}

// Python's str.isprintable() is false for categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
// (except the ASCII space). The categories come from Node's ICU, which may know newer
// Unicode than the peer's Python (15.0 vs 3.11's 14.0): a character assigned since is
// printed here and escaped there. Cosmetic only: repr is for logs and events.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

export function reprStr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0) as number;
      out += cp < 0x100 ? `\\x${hex(cp, 2)}` : cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + quote;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

export function reprBytes(bytes: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const b of bytes) {
    if (b === 0x27) hasSingle = true;
    else if (b === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = `b${quote}`;
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${hex(b, 2)}`;
    else out += ch;
  }
  return out + quote;
}

// ---------------------------------------------------------------------------------------
// saferepr(), ported token for token from celery/utils/saferepr.py (5.2.6)

/** Celery's `argsrepr_maxsize` / `kwargsrepr_maxsize`. */
export const REPR_MAXSIZE = 1024;

/** `argsrepr` as Python's `apply_async`/`delay` writes it: the args tuple. */
export function argsRepr(args: readonly unknown[], maxlen: number = REPR_MAXSIZE): string {
  return safeRepr(new PyTuple(args), maxlen);
}

/** `argsrepr` as Python's `send_task(args=[…])` writes it: a list (`()` when empty, as `args or ()`). */
export function argsListRepr(args: readonly unknown[], maxlen: number = REPR_MAXSIZE): string {
  return safeRepr(args.length === 0 ? new PyTuple([]) : args, maxlen);
}

export function kwargsRepr(kwargs: Readonly<Record<string, unknown>>, maxlen: number = REPR_MAXSIZE): string {
  return safeRepr(kwargs, maxlen);
}

class Literal {
  constructor(
    readonly value: string,
    readonly truncate: boolean,
    readonly direction: number,
  ) {}
}
class KeyToken {
  constructor(readonly value: unknown) {}
}
class Quoted {
  constructor(readonly value: string | Uint8Array) {}
}
class Text {
  constructor(readonly value: string) {}
}
class Dirty {
  constructor(readonly obj: object) {}
}

const LIT_DICT_START = new Literal('{', false, +1);
const LIT_DICT_KVSEP = new Literal(': ', true, 0);
const LIT_DICT_END = new Literal('}', false, -1);
const LIT_LIST_START = new Literal('[', false, +1);
const LIT_LIST_END = new Literal(']', false, -1);
const LIT_LIST_SEP = new Literal(', ', true, 0);
const LIT_TUPLE_START = new Literal('(', false, +1);
const LIT_TUPLE_END = new Literal(')', false, -1);
const LIT_TUPLE_END_SV = new Literal(',)', false, -1);

export function safeRepr(value: unknown, maxlen: number | null = REPR_MAXSIZE, maxlevels = 3): string {
  // Most argument lists are short: then no truncation can happen and the output is the
  // plain rendering, built directly (the token stream below costs ~10x more).
  if (maxlen !== null && maxlevels === 3) {
    const fast = shortRepr(value, 0, { left: maxlen - 8 });
    if (fast !== null) return fast;
  }
  return [...saferepr(value, maxlen, maxlevels)].join('');
}

/**
 * saferepr's output when it fits in the budget (so nothing is truncated), else null.
 * Mirrors the token stream: containers at level 3 print as `[...]`, strings are quoted
 * with only `'` escaped, dict keys as quoted strings.
 */
function shortRepr(value: unknown, level: number, budget: { left: number }): string | null {
  let out: string;
  const scalar = scalarToken(value);
  if (scalar !== null) {
    // Celery cuts bytes by their byte count, which can exceed the text's length.
    if (scalar instanceof Quoted && scalar.value instanceof Uint8Array && scalar.value.length >= budget.left) return null;
    out = scalar instanceof Quoted ? quotedShort(scalar.value) : scalar.value;
  } else {
    const obj = value as object;
    const tuple = obj instanceof PyTuple;
    const items = tuple ? obj.items : Array.isArray(obj) ? obj : null;
    const [open, close] = tuple ? ['(', items?.length === 1 ? ',)' : ')'] : items !== null ? ['[', ']'] : ['{', '}'];
    if (level >= 3) {
      out = `${open}...${close}`;
    } else if (items !== null) {
      const parts: string[] = [];
      for (const item of items) {
        const part = shortRepr(item, level + 1, budget);
        if (part === null) return null;
        parts.push(part);
      }
      out = `${open}${parts.join(', ')}${close}`;
    } else {
      const record = obj as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record)) {
        const part = shortRepr(record[key], level + 1, budget);
        if (part === null) return null;
        parts.push(`${quotedShort(key)}: ${part}`);
      }
      out = `${open}${parts.join(', ')}${close}`;
    }
  }
  budget.left -= out.length;
  return budget.left > 0 ? out : null;
}

function quotedShort(value: string | Uint8Array): string {
  return typeof value === 'string' ? `'${value.replace(/'/g, "\\'")}'` : `b'${binaryText(value)}'`;
}

function* saferepr(o: unknown, maxlenIn: number | null, maxlevels: number): Generator<string> {
  let maxlen = maxlenIn;
  const stack: Iterator<unknown>[] = [[o][Symbol.iterator]()];
  for (const [token, it] of reprstream(stack, maxlevels)) {
    if (maxlen !== null && maxlen <= 0) {
      yield ', ...';
      // Keep the rest so the closing brackets still come out.
      stack.push(it);
      break;
    }
    let val: string;
    if (token instanceof Literal) val = token.value;
    else if (token instanceof KeyToken) val = safeRepr(token.value, maxlen, maxlevels);
    else if (token instanceof Quoted) val = formatChars(token.value, maxlen);
    else val = truncate((token as Text).value, maxlen);
    yield val;
    if (maxlen !== null) maxlen -= pyLen(val);
  }
  for (const rest1 of stack) {
    for (let r = rest1.next(); !r.done; r = rest1.next()) {
      const rest2: unknown = r.value;
      if (rest2 instanceof Literal && !rest2.truncate) yield rest2.value;
    }
  }
}

function* chain(...parts: Iterable<unknown>[]): Generator<unknown> {
  for (const part of parts) {
    // Manual next(): a for-of would close a shared iterator when the caller stops early.
    const it = part[Symbol.iterator]();
    for (let r = it.next(); !r.done; r = it.next()) yield r.value;
  }
}

function* chainList(items: readonly unknown[]): Generator<unknown> {
  for (let i = 0; i < items.length; i++) {
    yield items[i];
    if (i < items.length - 1) yield LIT_LIST_SEP;
  }
}

function* chainDict(record: Readonly<Record<string, unknown>>): Generator<unknown> {
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    yield new KeyToken(key);
    yield LIT_DICT_KVSEP;
    yield record[key];
    if (i < keys.length - 1) yield LIT_LIST_SEP;
  }
}

function* reprstream(stack: Iterator<unknown>[], maxlevels: number): Generator<[unknown, Iterator<unknown>]> {
  const seen = new Set<object>();
  let level = 0;
  while (stack.length > 0) {
    const it = stack.shift() as Iterator<unknown>;
    for (let r = it.next(); !r.done; r = it.next()) {
      const val: unknown = r.value;
      if (val instanceof Dirty) {
        seen.delete(val.obj);
        continue;
      }
      if (val instanceof Literal) {
        level += val.direction;
        yield [val, it];
        continue;
      }
      if (val instanceof KeyToken) {
        yield [val, it];
        continue;
      }
      const scalar = scalarToken(val);
      if (scalar !== null) {
        yield [scalar, it];
        continue;
      }
      const obj = val as object;
      let start: Literal;
      let end: Literal;
      let items: Iterable<unknown>;
      if (obj instanceof PyTuple) {
        start = LIT_TUPLE_START;
        end = obj.items.length === 1 ? LIT_TUPLE_END_SV : LIT_TUPLE_END;
        items = chainList(obj.items);
      } else if (Array.isArray(obj)) {
        start = LIT_LIST_START;
        end = LIT_LIST_END;
        items = chainList(obj);
      } else {
        start = LIT_DICT_START;
        end = LIT_DICT_END;
        items = chainDict(obj as Record<string, unknown>);
      }
      if (maxlevels && level >= maxlevels) {
        yield [new Text(`${start.value}...${end.value}`), it];
        continue;
      }
      if (seen.has(obj)) {
        yield [new Text(`<Recursion on ${Array.isArray(obj) ? 'list' : 'dict'}>`), it];
        continue;
      }
      seen.add(obj);
      stack.push(chain([start], items, [new Dirty(obj), end], { [Symbol.iterator]: () => it }));
      break;
    }
  }
}

function scalarToken(val: unknown): Text | Quoted | null {
  switch (typeof val) {
    case 'string':
      return new Quoted(val);
    case 'number':
      return new Text(reprFloatOrInt(val));
    case 'bigint':
      return new Text(val.toString());
    case 'boolean':
      return new Text(val ? 'True' : 'False');
    case 'undefined':
      return new Text('None');
    case 'function':
    case 'symbol':
      return new Text(pyRepr(val));
  }
  if (val === null) return new Text('None');
  if (val instanceof Uint8Array) return new Quoted(val);
  if (val instanceof Date) return new Quoted(Number.isNaN(val.getTime()) ? 'Invalid Date' : pythonIsoFormat(val, 'Z'));
  return null;
}

function formatChars(val: string | Uint8Array, maxlen: number | null): string {
  if (typeof val === 'string') return `'${truncate(val, maxlen).replace(/'/g, "\\'")}'`;
  // _format_binary_bytes: bytes shown decoded as UTF-8 when they are, else as hex.
  if (maxlen && val.length > maxlen) return `b'${binaryText(val.subarray(0, maxlen))}...'`;
  return `b'${binaryText(val)}'`;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function binaryText(bytes: Uint8Array): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    // Not UTF-8: Celery prints the hex digits instead.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  }
}

/** celery.utils.text.truncate: cut at maxlen, back to the last space, add `...`. */
function truncate(s: string, maxlen: number | null): string {
  if (maxlen && pyLen(s) >= maxlen) {
    const head = pySlice(s, maxlen);
    const space = head.lastIndexOf(' ');
    return (space === -1 ? head : head.slice(0, space)) + '...';
  }
  return s;
}

const SURROGATE = /[\ud800-\udfff]/;

function pyLen(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pySlice(s: string, n: number): string {
  if (!SURROGATE.test(s)) return s.slice(0, n);
  return Array.from(s).slice(0, n).join('');
}
