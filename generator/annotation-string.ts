/**
 * Parses the text of a string annotation (`'list[int]'`, PEP 484 forward references)
 * into a {@link PyType}. Annotations use a tiny subset of Python expressions (dotted
 * names, subscripts, `|`, literals, `...`, lists), so a small recursive-descent parser
 * does it without a second tree-sitter parse per string (each costs a native round trip).
 */
import { MAX_TYPE_NESTING, type PyType, type Span } from './extracted.js';

class TooDeep extends Error {}

type Token = { readonly kind: 'name' | 'op' | 'string' | 'number'; readonly text: string; readonly start: number; readonly end: number };

const TOKEN = /\s*(?:([A-Za-z_\p{L}][\w\p{L}\p{N}]*)|(\.\.\.|[.,[\]()|\-])|((?:[rRuU]|[rR][bB]|[bB][rR]|[bB])?(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))|(\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|0[xXoObB][\da-fA-F_]+))/uy;

function tokenize(text: string): Token[] | null {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) return null;
    const raw = m[1] ?? m[2] ?? m[3] ?? m[4]!;
    const start = m.index + m[0].length - raw.length;
    out.push({ kind: m[1] ? 'name' : m[2] ? 'op' : m[3] ? 'string' : 'number', text: raw, start, end: start + raw.length });
    pos = TOKEN.lastIndex;
  }
  return out;
}

/**
 * @param text the annotation text (the string's content)
 * @param spanOf maps [start, end) offsets within `text` to a file span
 * @param decodeString decodes a nested string literal (`Literal['a']`), `null` if not plain
 * @param depth how deeply the string itself sits inside an annotation
 * @returns `null` when the text is not an annotation expression
 */
export function parseAnnotationString(
  text: string,
  spanOf: (start: number, end: number) => Span,
  decodeString: (literal: string) => string | null,
  depth = 0,
): PyType | null {
  try {
    return parse(text, spanOf, decodeString, depth);
  } catch (err) {
    if (!(err instanceof TooDeep)) throw err;
    return { kind: 'too-deep', text, span: spanOf(0, text.length) };
  }
}

function parse(text: string, spanOf: (start: number, end: number) => Span, decodeString: (literal: string) => string | null, depth: number): PyType | null {
  const tokens = tokenize(text);
  if (!tokens || tokens.length === 0) return null;
  let i = 0;
  let level = depth;
  const enter = () => {
    if (++level > MAX_TYPE_NESTING) throw new TooDeep();
  };
  const peek = () => tokens[i];
  const isOp = (op: string) => tokens[i]?.kind === 'op' && tokens[i]!.text === op;
  const node = (start: number, end: number) => ({ text: text.slice(start, end), span: spanOf(start, end) });

  const union = (inLiteral: boolean): PyType | null => {
    const startTok = tokens[i];
    const first = primary(inLiteral);
    if (!first) return null;
    const members = [first];
    while (isOp('|')) {
      i++;
      const next = primary(inLiteral);
      if (!next) return null;
      members.push(next);
    }
    if (members.length === 1) return first;
    return { kind: 'union', members: members.flatMap((m) => (m.kind === 'union' ? m.members : [m])), ...node(startTok!.start, tokens[i - 1]!.end) };
  };

  const list = (close: string, inLiteral: boolean): PyType[] | null => {
    const items: PyType[] = [];
    while (!isOp(close)) {
      const item = union(inLiteral);
      if (!item) return null;
      items.push(item);
      if (isOp(',')) i++;
      else if (!isOp(close)) return null;
    }
    i++;
    return items;
  };

  const primary = (inLiteral: boolean): PyType | null => {
    const t = peek();
    if (!t) return null;
    i++;
    if (t.kind === 'name') {
      let end = t.end;
      let name = t.text;
      while (isOp('.') && tokens[i + 1]?.kind === 'name') {
        name += `.${tokens[i + 1]!.text}`;
        end = tokens[i + 1]!.end;
        i += 2;
      }
      if (name === 'None') return { kind: 'none', ...node(t.start, end) };
      if (name === 'True' || name === 'False') return { kind: 'value', value: name === 'True', ...node(t.start, end) };
      if (!isOp('[')) return { kind: 'name', name, ...node(t.start, end) };
      i++;
      const literal = /(^|\.)Literal$/.test(name);
      enter();
      const args = list(']', literal);
      level--;
      if (!args) return null;
      // `X[(a, b)]` means `X[a, b]`; `tuple[()]` keeps its empty tuple.
      const flat = args.length === 1 && args[0]!.kind === 'list' && args[0]!.items.length > 0 && args[0]!.text.startsWith('(') ? args[0]!.items : args;
      return { kind: 'generic', name, args: flat, ...node(t.start, tokens[i - 1]!.end) };
    }
    if (t.kind === 'string') {
      const value = decodeString(t.text);
      if (value === null) return null;
      if (inLiteral) return { kind: 'value', value, ...node(t.start, t.end) };
      // A string inside a string annotation: parse its content too.
      const quote = /^[rRuU]?('|")/.exec(t.text);
      if (!quote || value !== t.text.slice(quote[0].length, -1)) return { kind: 'value', value, ...node(t.start, t.end) };
      const offset = t.start + quote[0].length;
      return parseAnnotationString(value, (s, e) => spanOf(s + offset, e + offset), decodeString, level + 1) ?? { kind: 'value', value, ...node(t.start, t.end) };
    }
    if (t.kind === 'number' || (t.kind === 'op' && t.text === '-' && peek()?.kind === 'number')) {
      const numTok = t.kind === 'number' ? t : tokens[i++]!;
      const n = Number(numTok.text.replace(/_/g, ''));
      if (!Number.isFinite(n)) return null;
      return { kind: 'value', value: t.kind === 'op' ? -n : n, ...node(t.start, numTok.end) };
    }
    if (t.kind === 'op' && t.text === '...') return { kind: 'ellipsis', ...node(t.start, t.end) };
    if (t.kind === 'op' && (t.text === '[' || t.text === '(')) {
      enter();
      const items = list(t.text === '[' ? ']' : ')', inLiteral);
      level--;
      if (!items) return null;
      // A parenthesised single expression is just that expression.
      if (t.text === '(' && items.length === 1 && text[tokens[i - 2]!.end] !== ',' && tokens[i - 2]!.text !== ',') return items[0]!;
      return { kind: 'list', items, ...node(t.start, tokens[i - 1]!.end) };
    }
    return null;
  };

  const result = union(false);
  return result && i === tokens.length ? result : null;
}
