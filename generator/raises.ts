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
const NESTED_SCOPES = new Set(['function_definition', 'class_definition', 'lambda', 'decorated_definition']);

export interface RaiseSources {
  /** The task's function (for a class task, its `run`), with its whole body. */
  readonly def: PyNode;
  /** The docstring text (already dedented) and the string node it came from. */
  readonly doc: string | null;
  readonly docNode: PyNode | null;
  /** Option name → value node (decorator keywords or class attributes). */
  readonly options: ReadonlyMap<string, PyNode>;
  readonly locate: (node: PyNode, offset?: number) => Location;
}

export function collectRaises(s: RaiseSources): ExtractedRaise[] {
  const out: ExtractedRaise[] = [];
  const body = s.def.childForFieldName('body');
  // Most task bodies raise nothing: skip the walk (a native call per node) when the text says so.
  if (body && body.text.includes('raise')) {
    const locals = new Set<string>();
    collectLocals(body, locals);
    for (const param of s.def.childForFieldName('parameters')?.namedChildren ?? []) {
      const name = param.type === 'identifier' ? param : (param.childForFieldName('name') ?? param.namedChildren.find((c) => c.type === 'identifier'));
      if (name?.type === 'identifier') locals.add(name.text);
    }
    walkRaises(body, locals, s, out);
  }
  if (s.doc !== null) {
    const raw = s.docNode?.text ?? '';
    const marker = /Raises|:raise|:except/.exec(raw)?.index ?? 0;
    for (const [name, text] of parseDocstring(s.doc).raises) {
      const at = raw.indexOf(name, marker);
      out.push({ name, origin: 'docstring', description: text === '' ? null : text, location: s.locate(s.docNode ?? s.def, at < 0 ? 0 : at) });
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

function walkRaises(node: PyNode, locals: ReadonlySet<string>, s: RaiseSources, out: ExtractedRaise[]): void {
  for (const child of node.namedChildren) {
    if (NESTED_SCOPES.has(child.type)) continue;
    if (child.type === 'raise_statement') {
      const raised = child.namedChildren.find((c) => c.type !== 'comment');
      const target = raised?.type === 'call' ? raised.childForFieldName('function') : raised;
      // `raise` alone re-raises; `raise exc` / `raise self.retry(...)` name a value, not a class.
      if (target && (target.type === 'identifier' || target.type === 'attribute')) {
        const name = target.text.replace(/\s+/g, '');
        if (!locals.has(name.split('.')[0]!)) out.push({ name, origin: 'raise', description: null, location: s.locate(target) });
      }
      continue;
    }
    walkRaises(child, locals, s, out);
  }
}

/** Names bound in the function: `except E as exc`, assignments, `for x in`, `with ... as x`. */
function collectLocals(node: PyNode, out: Set<string>): void {
  for (const child of node.namedChildren) {
    if (NESTED_SCOPES.has(child.type)) continue;
    if (child.type === 'except_clause' || child.type === 'as_pattern') {
      const alias = child.childForFieldName('alias') ?? child.namedChildren.find((c) => c.type === 'as_pattern_target');
      if (alias) out.add(alias.text.trim());
    }
    if (child.type === 'assignment' || child.type === 'augmented_assignment' || child.type === 'for_statement') {
      const left = child.childForFieldName('left');
      if (left?.type === 'identifier') out.add(left.text);
    }
    collectLocals(child, out);
  }
}
