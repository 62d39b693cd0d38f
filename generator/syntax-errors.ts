/**
 * Syntax errors from tree-sitter's ERROR and MISSING nodes, and the recovery that lets
 * extract.ts keep searching a file around them.
 */
import type { PyNode } from './parse.js';

export interface SyntaxProblem {
  /** UTF-16 offsets within the parsed text. */
  readonly start: number;
  readonly end: number;
  readonly message: string;
}

/**
 * The first problem of the tree in document order: the innermost ERROR (the narrowest
 * span tree-sitter could not place) or a MISSING token. Later errors are usually echoes
 * of the first, as with Python's own parser, so one per parsed piece is reported.
 */
export function findSyntaxErrors(root: PyNode): SyntaxProblem[] {
  const found = firstProblem(root);
  return found ? [found] : [];
}

/** Depth-first with an explicit stack: broken input can nest thousands of levels deep. */
function firstProblem(root: PyNode): SyntaxProblem | null {
  const stack: { children: readonly PyNode[]; next: number; error: PyNode | null }[] = [{ children: root.children, next: 0, error: null }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.children.length) {
      stack.pop();
      // Nothing more precise inside an ERROR node: the node itself is the problem.
      if (frame.error) return { start: frame.error.startIndex, end: frame.error.endIndex, message: `syntax error: unexpected ${describeText(frame.error)}` };
      continue;
    }
    const child = frame.children[frame.next++]!;
    if (child.isMissing) {
      return { start: child.startIndex, end: child.endIndex, message: `syntax error: missing ${describeToken(child.type)}` };
    }
    if (child.type === 'ERROR') stack.push({ children: child.children, next: 0, error: child });
    else if (child.hasError) stack.push({ children: child.children, next: 0, error: null });
  }
  return null;
}

function describeToken(type: string): string {
  return /^[a-z_]+$/.test(type) ? type.replace(/_/g, ' ') : `'${type}'`;
}

function describeText(node: PyNode): string {
  const first = node.children[0];
  const text = (first && first.children.length === 0 ? first.text : node.text).split('\n')[0]!.trim();
  if (text === '') return 'end of line';
  return `'${text.length > 30 ? `${text.slice(0, 30)}…` : text}'`;
}

/**
 * Splits [start, end) of `text` at lines that begin a new top-level statement: a line at
 * column 0 that is not blank, a comment or a closing bracket, and that does not follow a
 * decorator line (a decorator stays with its definition).
 */
export function recoverChunks(text: string, start: number, end: number): { start: number; end: number }[] {
  const chunks: { start: number; end: number }[] = [];
  let chunkStart = start;
  let previousWasDecorator = false;
  let lineStart = start;
  // Start at the line containing `start`.
  while (lineStart > 0 && text.charCodeAt(lineStart - 1) !== 10) lineStart--;
  for (let i = lineStart; i < end; ) {
    const nl = text.indexOf('\n', i);
    const lineEnd = nl < 0 || nl >= end ? end : nl;
    const c = text[i];
    const opens = c !== undefined && c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r' && c !== '#' && !')]}'.includes(c);
    if (opens && i > chunkStart) {
      if (!previousWasDecorator) {
        chunks.push({ start: chunkStart, end: i });
        chunkStart = i;
      }
    }
    if (opens) previousWasDecorator = c === '@';
    i = lineEnd + 1;
  }
  if (chunkStart < end) chunks.push({ start: chunkStart, end });
  return chunks;
}
