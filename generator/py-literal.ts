/**
 * Evaluates Python literal expressions (as `ast.literal_eval` would, restricted to what
 * JSON can carry): numbers, strings, booleans, None, and lists/tuples/dicts of them.
 * Anything else is "not a literal" and callers keep its source text instead.
 */
import type { JsonValue } from './model.js';
import type { PyNode } from './parse.js';

export type LiteralResult = { readonly ok: true; readonly value: JsonValue } | { readonly ok: false };

const NOT_LITERAL: LiteralResult = { ok: false };

/** Deeper values are not literals: real defaults and options never nest this far, and it bounds the recursion. */
const MAX_LITERAL_NESTING = 32;

export function evaluateLiteral(node: PyNode, depth = 0): LiteralResult {
  if (depth > MAX_LITERAL_NESTING) return NOT_LITERAL;
  switch (node.type) {
    case 'true':
      return { ok: true, value: true };
    case 'false':
      return { ok: true, value: false };
    case 'none':
      return { ok: true, value: null };
    case 'integer':
      return parseInteger(node.text);
    case 'float':
      return parseFloatLiteral(node.text);
    case 'string':
    case 'concatenated_string': {
      const s = stringValue(node);
      return s === null ? NOT_LITERAL : { ok: true, value: s };
    }
    case 'unary_operator': {
      const arg = node.childForFieldName('argument');
      const op = node.children[0]?.type;
      if (!arg || (op !== '-' && op !== '+')) return NOT_LITERAL;
      const inner = evaluateLiteral(arg, depth + 1);
      if (!inner.ok || typeof inner.value !== 'number') return NOT_LITERAL;
      return { ok: true, value: op === '-' ? -inner.value : inner.value };
    }
    case 'parenthesized_expression': {
      const inner = node.namedChildren.filter((c) => c.type !== 'comment');
      return inner.length === 1 ? evaluateLiteral(inner[0]!, depth + 1) : NOT_LITERAL;
    }
    case 'list':
    case 'tuple': {
      const out: JsonValue[] = [];
      for (const child of node.namedChildren) {
        if (child.type === 'comment') continue;
        const v = evaluateLiteral(child, depth + 1);
        if (!v.ok) return NOT_LITERAL;
        out.push(v.value);
      }
      return { ok: true, value: out };
    }
    case 'dictionary': {
      const out: { [key: string]: JsonValue } = {};
      for (const pair of node.namedChildren) {
        if (pair.type === 'comment') continue;
        if (pair.type !== 'pair') return NOT_LITERAL;
        const keyNode = pair.childForFieldName('key');
        const valueNode = pair.childForFieldName('value');
        if (!keyNode || !valueNode) return NOT_LITERAL;
        const key = evaluateLiteral(keyNode, depth + 1);
        // JSON objects only have string keys; Python would convert others, losing identity.
        if (!key.ok || typeof key.value !== 'string') return NOT_LITERAL;
        const value = evaluateLiteral(valueNode, depth + 1);
        if (!value.ok) return NOT_LITERAL;
        // `__proto__` must stay an ordinary key (assignment would set the prototype).
        if (key.value === '__proto__') Object.defineProperty(out, key.value, { value: value.value, enumerable: true, writable: true, configurable: true });
        else out[key.value] = value.value;
      }
      return { ok: true, value: out };
    }
    default:
      return NOT_LITERAL;
  }
}

function parseInteger(text: string): LiteralResult {
  const t = text.replace(/_/g, '').toLowerCase();
  if (/[jl]$/.test(t)) return NOT_LITERAL;
  let n: bigint;
  try {
    n = /^0[box]/.test(t) ? BigInt(t) : BigInt(t.replace(/^0+(?=\d)/, ''));
  } catch {
    return NOT_LITERAL;
  }
  // Beyond 2^53 a JSON number would silently change the value.
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) return NOT_LITERAL;
  return { ok: true, value: Number(n) };
}

function parseFloatLiteral(text: string): LiteralResult {
  const t = text.replace(/_/g, '');
  if (/[jJ]$/.test(t)) return NOT_LITERAL;
  const v = Number(t);
  return Number.isFinite(v) ? { ok: true, value: v } : NOT_LITERAL;
}

/**
 * The value of a (possibly implicitly concatenated) string literal, or `null` when it is
 * not a plain text literal (f-strings, bytes) or uses an escape we do not decode.
 */
export function stringValue(node: PyNode): string | null {
  if (node.type === 'concatenated_string') {
    let out = '';
    for (const part of node.namedChildren) {
      if (part.type === 'comment') continue;
      const s = stringValue(part);
      if (s === null) return null;
      out += s;
    }
    return out;
  }
  if (node.type !== 'string') return null;
  return decodeStringLiteral(node.text);
}

/** Decodes Python string literal source text (prefix, quotes, escapes). */
export function decodeStringLiteral(text: string): string | null {
  const m = /^([rRuU]{0,2})('''|"""|'|")/.exec(text);
  if (!m) return null;
  const prefix = m[1]!.toLowerCase();
  const q = m[2]!;
  if (!text.endsWith(q) || text.length < m[0].length + q.length) return null;
  const body = text.slice(m[0].length, text.length - q.length);
  // Most literals (docstrings above all) have no escape: no need to rebuild them a character at a time.
  if (prefix.includes('r') || !body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === undefined) return null;
    switch (n) {
      case '\n':
        break;
      case '\\':
      case "'":
      case '"':
        out += n;
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
      case 'u':
      case 'U': {
        const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return null;
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) return null;
        out += String.fromCodePoint(cp);
        i += len;
        break;
      }
      default:
        if (/[0-7]/.test(n)) {
          let oct = n;
          while (oct.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) oct += body[++i];
          out += String.fromCodePoint(parseInt(oct, 8));
        } else if (n === 'N') {
          // Named escapes need the Unicode name table; keep the source text instead.
          return null;
        } else {
          out += `\\${n}`;
        }
    }
  }
  return out;
}
