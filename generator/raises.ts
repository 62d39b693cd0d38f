/**
 * The exception classes a task names as raised, read from its syntax: `raise X(...)` and
 * `raise X` in its body, its docstring's Raises section (Google, NumPy, Sphinx), and its
 * `autoretry_for=` / `throws=` options. Names only: exceptions.ts resolves them.
 */
import { parseDocstring } from './docstrings.js';
import type { ExtractedRaise } from './extracted.js';
import type { Location } from './model.js';
import type { PyNode } from './parse.js';

/** Options whose value is a tuple of exception classes. */
const EXCEPTION_OPTIONS = ['autoretry_for', 'throws'] as const;

/** Definitions inside the body run elsewhere: their raise statements are not the task's. */
const NESTED_SCOPES: readonly string[] = ['function_definition', 'class_definition', 'lambda'];

/**
 * Names the function binds (`except E as exc`, `with ... as f`, `x = ...`, `x += ...`,
 * `for x in ...`), read from the text: a raise of one re-raises a value, not a class.
 * Reading them from the tree would cost a native call per statement of every task.
 */
const LOCAL_BINDINGS = /\bas\s+([A-Za-z_]\w*)|^[ \t]*([A-Za-z_]\w*)[ \t]*(?:[-+*/%&|^@]|\/\/|\*\*|<<|>>)?=(?!=)|\bfor\s+([A-Za-z_]\w*)\s+in\b/gm;

export interface RaiseSources {
  /** The task's function (for a class task, its `run`), or its decorated definition, as tree-sitter parsed it (whole body). */
  readonly def: PyNode;
  /** Its parameter names (`self` included). */
  readonly params: readonly string[];
  /** The docstring text (already dedented), and where its string node is (read only when it names exceptions). */
  readonly doc: string | null;
  readonly docNode: () => PyNode | null;
  /** Every raise statement of the def's tree, in source order. */
  readonly raiseNodes: () => readonly PyNode[];
  /** Option name → value node (decorator keywords or class attributes). */
  readonly options: ReadonlyMap<string, PyNode>;
  readonly locate: (node: PyNode, offset?: number) => Location;
}

export function collectRaises(s: RaiseSources): ExtractedRaise[] {
  const out: ExtractedRaise[] = [];
  // Most task bodies raise nothing: skip the tree (a native call per node read) when the text says so.
  const text = s.def.text;
  if (/\braise\b/.test(text)) out.push(...raiseStatements(s, text));
  if (s.doc !== null && /rais|except/i.test(s.doc)) {
    const raises = parseDocstring(s.doc).raises;
    const docNode = raises.length > 0 ? s.docNode() : null;
    const raw = docNode?.text ?? '';
    const marker = /Raises|:raise|:except/.exec(raw)?.index ?? 0;
    for (const [name, description] of raises) {
      const at = raw.indexOf(name, marker);
      out.push({ name, origin: 'docstring', description: description === '' ? null : description, location: s.locate(docNode ?? s.def, at < 0 ? 0 : at) });
    }
  }
  for (const option of EXCEPTION_OPTIONS) {
    const value = s.options.get(option);
    if (!value) continue;
    const items = value.type === 'tuple' || value.type === 'list' || value.type === 'parenthesized_expression' ? value.namedChildren : [value];
    for (const item of items) {
      if (item.type === 'identifier' || item.type === 'attribute') out.push({ name: item.text.replace(/\s+/g, ''), origin: option, description: null, location: s.locate(item) });
    }
  }
  return out;
}

/**
 * `raise X(...)` / `raise X` naming a class. Skipped: bare `raise`, raises inside nested
 * definitions, and names the function binds itself (`raise exc`, `raise self.retry(...)`).
 */
function raiseStatements(s: RaiseSources, text: string): ExtractedRaise[] {
  const fn = s.def.type === 'decorated_definition' ? s.def.childForFieldName('definition') : s.def;
  const body = fn?.childForFieldName('body');
  if (!body) return [];
  const locals = new Set(s.params);
  for (const m of text.matchAll(LOCAL_BINDINGS)) locals.add((m[1] ?? m[2] ?? m[3])!);
  const nested = /\b(?:def|class|lambda)\b/.test(body.text) ? descendants(body, NESTED_SCOPES).map((n) => [n.startIndex, n.endIndex] as const) : [];
  const all = s.raiseNodes();
  const from = body.startIndex;
  const to = body.endIndex;
  // The first raise at or after the body's start (binary search), then on while inside it.
  let lo = 0;
  for (let hi = all.length; lo < hi; ) {
    const mid = (lo + hi) >>> 1;
    if (all[mid]!.startIndex < from) lo = mid + 1;
    else hi = mid;
  }
  const out: ExtractedRaise[] = [];
  for (let i = lo; i < all.length && all[i]!.startIndex < to; i++) {
    const node = all[i]!;
    const start = node.startIndex;
    if (nested.some(([a, b]) => start >= a && start < b)) continue;
    const raised = node.namedChildren.find((c) => c.type !== 'comment');
    const target = raised?.type === 'call' ? raised.childForFieldName('function') : raised;
    if (!target || (target.type !== 'identifier' && target.type !== 'attribute')) continue;
    const name = target.text.replace(/\s+/g, '');
    if (!locals.has(name.split('.')[0]!)) out.push({ name, origin: 'raise', description: null, location: s.locate(target) });
  }
  return out;
}

/** Descendants of these types in source order: tree-sitter's one call when the node has it. */
export function descendants(node: PyNode, types: readonly string[]): readonly PyNode[] {
  if (node.descendantsOfType) return node.descendantsOfType(types);
  const wanted = new Set(types);
  const out: PyNode[] = [];
  const visit = (n: PyNode): void => {
    for (const c of n.namedChildren) {
      if (wanted.has(c.type)) out.push(c);
      visit(c);
    }
  };
  visit(node);
  return out;
}
