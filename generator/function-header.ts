/**
 * A fast path for the statement extract.ts reads most: a decorated function definition.
 * Reading a tree-sitter node costs a call into the native addon per property (about 95
 * calls per task), which dominated generation time for large modules. Here the
 * decorators, the signature and the docstring are parsed in JavaScript from the text
 * of a statement that tree-sitter already accepted (no syntax errors), into nodes of
 * the same types and fields tree-sitter gives. Anything outside the small expression
 * subset signatures use (lambdas, comprehensions, comparisons, ...) returns `null`, and
 * the caller reads the tree-sitter nodes instead; a test checks both paths agree.
 */
import type { PyNode } from './parse.js';

type TokKind = 'name' | 'number' | 'string' | 'op' | 'newline' | 'end';

interface Tok {
  readonly kind: TokKind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const NAME = /[\p{ID_Start}_][\p{ID_Continue}]*/uy;
const NUMBER = /(?:0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)[jJlL]?/y;
const OPS = ['**=', '//=', '>>=', '<<=', '...', '->', '**', '//', '<<', '>>', '<=', '>=', '==', '!=', ':=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@='];
const SINGLE = '()[]{},:.;@=+-*/%|&^~<>';
/** Multi-character operators by their first character, longest first. */
const OPS_BY_FIRST = new Map<string, string[]>();
for (const op of OPS) OPS_BY_FIRST.set(op[0]!, [...(OPS_BY_FIRST.get(op[0]!) ?? []), op]);
const NO_OPS: readonly string[] = [];
/** Names that are values, not identifiers. */
const CONSTANTS = new Set(['None', 'True', 'False']);
const BINARY_OPS = new Set(['|', '+', '-', '*', '/', '//', '%', '**', '&', '^', '<<', '>>', '@']);
/** Keywords that start constructs outside the subset: the caller falls back to tree-sitter. */
const UNSUPPORTED = new Set(['lambda', 'not', 'and', 'or', 'if', 'else', 'for', 'in', 'is', 'await', 'yield']);

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}

function isNamePart(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

class Tokenizer {
  readonly toks: Tok[] = [];
  #depth = 0;

  constructor(
    readonly src: string,
    start: number,
    readonly limit: number,
  ) {
    this.#pos = start;
  }
  #pos: number;

  /** Tokenizes up to the end of the logical line that ends the function header and its first statement. */
  next(): Tok | null {
    const s = this.src;
    const limit = this.limit;
    // Whitespace, line continuations and comments, by character code on a local position
    // (this loop runs for every token of every task, mostly before V8 has optimised it).
    let pos = this.#pos;
    for (;;) {
      if (pos >= limit) {
        this.#pos = pos;
        return this.#push('end', pos, pos);
      }
      const c = s.charCodeAt(pos);
      if (c === 32 || c === 9 || c === 12 || c === 13) {
        pos++;
        continue;
      }
      if (c === 92 && s.charCodeAt(pos + 1) === 10) {
        pos += 2;
        continue;
      }
      if (c === 92 && s.charCodeAt(pos + 1) === 13 && s.charCodeAt(pos + 2) === 10) {
        pos += 3;
        continue;
      }
      if (c === 35) {
        while (pos < limit && s.charCodeAt(pos) !== 10) pos++;
        continue;
      }
      if (c === 10) {
        pos++;
        if (this.#depth > 0) continue;
        this.#pos = pos;
        return this.#push('newline', pos - 1, pos);
      }
      break;
    }
    this.#pos = pos;
    const start = pos;
    const code = s.charCodeAt(start);
    if (code === 39 || code === 34) return this.#string(start, start);
    if (isNameStart(code)) {
      let i = start + 1;
      let ascii = code < 128;
      for (let c = s.charCodeAt(i); i < this.limit && isNamePart(c); c = s.charCodeAt(++i)) if (c >= 128) ascii = false;
      if (i < this.limit && code < 128) {
        const q = s.charCodeAt(i);
        // A string prefix (r, b, u, f and their pairs) directly followed by a quote.
        if ((q === 39 || q === 34) && i - start <= 2 && /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/.test(s.slice(start, i))) return this.#string(start, i);
      }
      if (!ascii) {
        // Unicode identifiers: let the regex apply Python's (and JavaScript's) ID classes.
        NAME.lastIndex = start;
        const nm = NAME.exec(s);
        if (!nm) return null;
        i = start + nm[0].length;
      }
      this.#pos = i;
      return this.#push('name', start, i);
    }
    if ((code >= 48 && code <= 57) || (code === 46 && s.charCodeAt(start + 1) >= 48 && s.charCodeAt(start + 1) <= 57)) {
      NUMBER.lastIndex = start;
      const num = NUMBER.exec(s);
      if (!num || num[0] === '') return null;
      this.#pos = start + num[0].length;
      return this.#push('number', start, this.#pos);
    }
    const c = s[start]!;
    for (const op of OPS_BY_FIRST.get(c) ?? NO_OPS) {
      if (s.startsWith(op, start)) {
        this.#pos = start + op.length;
        return this.#push('op', start, this.#pos, op);
      }
    }
    if (SINGLE.includes(c)) {
      if (c === '(' || c === '[' || c === '{') this.#depth++;
      if (c === ')' || c === ']' || c === '}') this.#depth--;
      this.#pos = start + 1;
      return this.#push('op', start, this.#pos, c);
    }
    return null;
  }

  /** A string literal whose quotes start at `quoteAt` (after any prefix at `start`). */
  #string(start: number, quoteAt: number): Tok | null {
    const s = this.src;
    const q = s.charCodeAt(quoteAt);
    const triple = s.charCodeAt(quoteAt + 1) === q && s.charCodeAt(quoteAt + 2) === q;
    let i = quoteAt + (triple ? 3 : 1);
    for (;;) {
      if (i >= this.limit) return null;
      const ch = s.charCodeAt(i);
      if (ch === 92) {
        i += 2;
        continue;
      }
      if (!triple && ch === 10) return null;
      if (ch === q && (!triple || (s.charCodeAt(i + 1) === q && s.charCodeAt(i + 2) === q))) {
        i += triple ? 3 : 1;
        break;
      }
      i++;
    }
    this.#pos = i;
    return this.#push('string', start, i);
  }

  /** `text`: operators pass their constant spelling, so no string is cut for them. */
  #push(kind: TokKind, start: number, end: number, text = this.src.slice(start, end)): Tok {
    const t = { kind, text, start, end };
    this.toks.push(t);
    return t;
  }
}

/**
 * Fields by name, as the object literal the parser wrote (no Map per node: this runs for
 * every node of every task). Only the field names extract.ts asks for are ever read.
 */
type Fields = { readonly [field: string]: JsNode | readonly JsNode[] | undefined };
const NO_FIELDS: Fields = {};
const NO_CHILDREN: readonly JsNode[] = [];

/** A node built here; the same surface as a tree-sitter node. */
class JsNode implements PyNode {
  #named: readonly JsNode[] | undefined;

  constructor(
    readonly type: string,
    readonly source: string,
    readonly startIndex: number,
    readonly endIndex: number,
    readonly children: readonly JsNode[] = NO_CHILDREN,
    readonly fields: Fields = NO_FIELDS,
    readonly isNamed = true,
  ) {}

  // Getters, not fields: a header parses into some seventy nodes per task, so each field counts.
  get isMissing(): boolean {
    return false;
  }
  get hasError(): boolean {
    return false;
  }
  get namedChildren(): readonly JsNode[] {
    // Most nodes' children are all named: then the same array serves, no copy.
    return (this.#named ??= this.children.every((c) => c.isNamed) ? this.children : this.children.filter((c) => c.isNamed));
  }
  get text(): string {
    return this.source.slice(this.startIndex, this.endIndex);
  }
  get firstChild(): JsNode | null {
    return this.children[0] ?? null;
  }
  childForFieldName(field: string): JsNode | null {
    const f = this.fields[field];
    return f === undefined ? null : f instanceof JsNode ? f : (f[0] ?? null);
  }
  childrenForFieldName(field: string): readonly JsNode[] {
    const f = this.fields[field];
    return f === undefined ? NO_CHILDREN : f instanceof JsNode ? [f] : f;
  }
}

/** Thrown to give up on the fast path; not an Error, so no stack trace is captured for it. */
class Unsupported {}

/**
 * Deeper expressions go to tree-sitter's nodes, whose readers bound their own depth:
 * recursion here must not depend on how much stack is left.
 */
const MAX_DEPTH = 64;

class HeaderParser {
  #i = 0;
  #depth = 0;
  readonly #t: Tokenizer;

  constructor(readonly src: string, start: number, end: number) {
    this.#t = new Tokenizer(src, start, end);
  }

  peek(ahead = 0): Tok {
    // Past the end the tokenizer keeps returning 'end', so this terminates.
    while (this.#t.toks.length <= this.#i + ahead) if (!this.#t.next()) throw new Unsupported();
    return this.#t.toks[this.#i + ahead]!;
  }
  take(): Tok {
    const t = this.peek();
    this.#i++;
    return t;
  }
  isOp(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'op' && t.text === text;
  }
  expectOp(text: string): Tok {
    if (!this.isOp(text)) throw new Unsupported();
    return this.take();
  }
  isName(text: string): boolean {
    const t = this.peek();
    return t.kind === 'name' && t.text === text;
  }

  token(t: Tok, type = t.text): JsNode {
    return new JsNode(type, this.src, t.start, t.end, NO_CHILDREN, NO_FIELDS, false);
  }
  node(type: string, children: readonly JsNode[], fields: Fields = NO_FIELDS): JsNode {
    return new JsNode(type, this.src, children[0]!.startIndex, children[children.length - 1]!.endIndex, children, fields);
  }

  decoratedDefinition(): JsNode {
    const decorators: JsNode[] = [];
    while (this.isOp('@')) {
      const at = this.token(this.take());
      const expr = this.expression();
      if (this.peek().kind !== 'newline') throw new Unsupported();
      this.take();
      decorators.push(this.node('decorator', [at, expr]));
    }
    if (decorators.length === 0) throw new Unsupported();
    const def = this.functionDefinition();
    return this.node('decorated_definition', [...decorators, def], { definition: def });
  }

  functionDefinition(): JsNode {
    const children: JsNode[] = [];
    if (this.isName('async')) children.push(this.token(this.take()));
    if (!this.isName('def')) throw new Unsupported();
    children.push(this.token(this.take()));
    const nameTok = this.take();
    if (nameTok.kind !== 'name') throw new Unsupported();
    const name = new JsNode('identifier', this.src, nameTok.start, nameTok.end);
    children.push(name);
    const params = this.parameters();
    children.push(params);
    const fields: Record<string, JsNode> = { name, parameters: params };
    if (this.isOp('->')) {
      children.push(this.token(this.take()));
      const ret = this.typeNode();
      children.push(ret);
      fields['return_type'] = ret;
    }
    children.push(this.token(this.expectOp(':')));
    const body = this.firstStatementBlock();
    children.push(body);
    fields['body'] = body;
    return this.node('function_definition', children, fields);
  }

  /** The body block, holding only its first statement (all extract.ts reads of a function body). */
  firstStatementBlock(): JsNode {
    let t = this.peek();
    if (t.kind === 'newline') {
      this.take();
      t = this.peek();
      while (t.kind === 'newline') {
        this.take();
        t = this.peek();
      }
    }
    if (t.kind === 'end') throw new Unsupported();
    const strings: JsNode[] = [];
    while (this.peek().kind === 'string') strings.push(this.string(this.take()));
    const after = this.peek();
    let stmt: JsNode;
    if (strings.length > 0 && (after.kind === 'newline' || after.kind === 'end' || (after.kind === 'op' && after.text === ';'))) {
      const expr = strings.length === 1 ? strings[0]! : this.node('concatenated_string', strings);
      stmt = this.node('expression_statement', [expr]);
    } else {
      // Some other statement: its content is never read, only that it is not a docstring.
      stmt = new JsNode('statement', this.src, t.start, t.end);
    }
    return this.node('block', [stmt]);
  }

  parameters(): JsNode {
    const open = this.token(this.expectOp('('));
    const children: JsNode[] = [open];
    while (!this.isOp(')')) {
      children.push(this.parameter());
      if (this.isOp(',')) children.push(this.token(this.take()));
      else if (!this.isOp(')')) throw new Unsupported();
    }
    children.push(this.token(this.take()));
    return this.node('parameters', children);
  }

  parameter(): JsNode {
    if (this.isOp('/')) return this.node('positional_separator', [this.token(this.take())]);
    let head: JsNode;
    if (this.isOp('*') || this.isOp('**')) {
      const star = this.token(this.take());
      if (star.type === '*' && (this.isOp(',') || this.isOp(')'))) return this.node('keyword_separator', [star]);
      const id = this.identifier();
      head = this.node(star.type === '*' ? 'list_splat_pattern' : 'dictionary_splat_pattern', [star, id]);
    } else head = this.identifier();
    let type: JsNode | null = null;
    const parts: JsNode[] = [head];
    if (this.isOp(':')) {
      parts.push(this.token(this.take()));
      type = this.typeNode();
      parts.push(type);
    }
    if (this.isOp('=')) {
      if (head.type !== 'identifier') throw new Unsupported();
      parts.push(this.token(this.take()));
      const value = this.expression();
      parts.push(value);
      return type
        ? this.node('typed_default_parameter', parts, { name: head, type, value })
        : this.node('default_parameter', parts, { name: head, value });
    }
    if (type) return this.node('typed_parameter', parts, { type });
    return head;
  }

  identifier(): JsNode {
    const t = this.take();
    if (t.kind !== 'name' || UNSUPPORTED.has(t.text) || CONSTANTS.has(t.text)) throw new Unsupported();
    return new JsNode('identifier', this.src, t.start, t.end);
  }

  typeNode(): JsNode {
    const expr = this.expression();
    return this.node('type', [expr]);
  }

  string(t: Tok): JsNode {
    return new JsNode('string', this.src, t.start, t.end);
  }

  /** expression := unary ( binop unary )* — precedence does not matter: no operator result is ever evaluated, only `|` is read. */
  expression(): JsNode {
    if (++this.#depth > MAX_DEPTH) throw new Unsupported();
    const e = this.binary();
    this.#depth--;
    return e;
  }

  binary(): JsNode {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !BINARY_OPS.has(t.text)) return left;
      const op = this.token(this.take());
      const right = this.unary();
      // A chain of `|` nests to the left, as tree-sitter (and Python) group it.
      if (op.type !== '|' && left.type === 'binary_operator') throw new Unsupported();
      left = this.node('binary_operator', [left, op, right], { left, operator: op, right });
    }
  }

  unary(): JsNode {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      const op = this.token(this.take());
      if (++this.#depth > MAX_DEPTH) throw new Unsupported();
      const arg = this.unary();
      this.#depth--;
      return this.node('unary_operator', [op, arg], { operator: op, argument: arg });
    }
    return this.postfix(this.atom());
  }

  postfix(expr: JsNode): JsNode {
    for (;;) {
      const next = this.peek();
      const op = next.kind === 'op' ? next.text : '';
      if (op === '.') {
        const dot = this.token(this.take());
        const attr = this.identifier();
        expr = this.node('attribute', [expr, dot, attr], { object: expr, attribute: attr });
      } else if (op === '(') {
        const args = this.argumentList();
        expr = this.node('call', [expr, args], { function: expr, arguments: args });
      } else if (op === '[') {
        const open = this.token(this.take());
        const subs: JsNode[] = [];
        const children: JsNode[] = [expr, open];
        while (!this.isOp(']')) {
          const s = this.expression();
          subs.push(s);
          children.push(s);
          if (this.isOp(',')) children.push(this.token(this.take()));
          else if (!this.isOp(']')) throw new Unsupported();
        }
        if (subs.length === 0) throw new Unsupported();
        children.push(this.token(this.take()));
        expr = this.node('subscript', children, { value: expr, subscript: subs });
      } else return expr;
    }
  }

  argumentList(): JsNode {
    const children: JsNode[] = [this.token(this.expectOp('('))];
    while (!this.isOp(')')) {
      if (this.peek().kind === 'name' && this.isOp('=', 1)) {
        const name = this.identifier();
        const eq = this.token(this.take());
        const value = this.expression();
        children.push(this.node('keyword_argument', [name, eq, value], { name, value }));
      } else if (this.isOp('*') || this.isOp('**')) {
        const star = this.token(this.take());
        const value = this.expression();
        children.push(this.node(star.type === '*' ? 'list_splat' : 'dictionary_splat', [star, value]));
      } else children.push(this.expression());
      if (this.isOp(',')) children.push(this.token(this.take()));
      else if (!this.isOp(')')) throw new Unsupported();
    }
    children.push(this.token(this.take()));
    return this.node('argument_list', children);
  }

  atom(): JsNode {
    const t = this.peek();
    if (t.kind === 'name') {
      if (UNSUPPORTED.has(t.text)) throw new Unsupported();
      this.take();
      const type = t.text === 'None' ? 'none' : t.text === 'True' ? 'true' : t.text === 'False' ? 'false' : 'identifier';
      return new JsNode(type, this.src, t.start, t.end);
    }
    if (t.kind === 'number') {
      this.take();
      const isFloat = !/^0[xXoObB]/.test(t.text) && /[.eE]/.test(t.text);
      return new JsNode(isFloat ? 'float' : 'integer', this.src, t.start, t.end);
    }
    if (t.kind === 'string') {
      const parts: JsNode[] = [];
      while (this.peek().kind === 'string') parts.push(this.string(this.take()));
      return parts.length === 1 ? parts[0]! : this.node('concatenated_string', parts);
    }
    if (t.kind === 'op' && t.text === '...') {
      this.take();
      return new JsNode('ellipsis', this.src, t.start, t.end);
    }
    if (t.kind === 'op' && (t.text === '(' || t.text === '[')) return this.sequence(t.text === '(' ? ')' : ']');
    if (t.kind === 'op' && t.text === '{') return this.dictionary();
    throw new Unsupported();
  }

  /** `( ... )` and `[ ... ]`: tuple, parenthesized expression or list. */
  sequence(close: string): JsNode {
    const open = this.token(this.take());
    const children: JsNode[] = [open];
    let items = 0;
    let trailingComma = false;
    while (!this.isOp(close)) {
      if (this.isOp('*')) throw new Unsupported();
      children.push(this.expression());
      items++;
      trailingComma = false;
      if (this.isOp(',')) {
        children.push(this.token(this.take()));
        trailingComma = true;
      } else if (!this.isOp(close)) throw new Unsupported();
    }
    children.push(this.token(this.take()));
    if (close === ']') return this.node('list', children);
    if (items === 1 && !trailingComma) return this.node('parenthesized_expression', children);
    return this.node('tuple', children);
  }

  dictionary(): JsNode {
    const children: JsNode[] = [this.token(this.take())];
    while (!this.isOp('}')) {
      if (this.isOp('**')) throw new Unsupported();
      const key = this.expression();
      if (!this.isOp(':')) throw new Unsupported();
      const colon = this.token(this.take());
      const value = this.expression();
      children.push(this.node('pair', [key, colon, value], { key, value }));
      if (this.isOp(',')) children.push(this.token(this.take()));
      else if (!this.isOp('}')) throw new Unsupported();
    }
    children.push(this.token(this.take()));
    return this.node('dictionary', children);
  }
}

/**
 * Parses the decorated function definition spanning [start, end) of `source`; `null`
 * when it is a class or uses syntax outside the supported subset.
 */
export function parseDecoratedFunction(source: string, start: number, end: number): PyNode | null {
  try {
    return new HeaderParser(source, start, end).decoratedDefinition();
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
}
