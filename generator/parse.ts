/**
 * The only file that knows which tree-sitter binding we use. It returns the syntax tree
 * as the small {@link PyNode} surface that extract.ts reads, so the native binding could
 * be swapped for web-tree-sitter (same trees, no native build) by changing this file alone.
 */
import { createRequire } from 'node:module';

/** The part of a tree-sitter node the extractor relies on. Offsets are UTF-16 code units. */
export interface PyNode {
  readonly type: string;
  readonly text: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly isNamed: boolean;
  readonly isMissing: boolean;
  readonly hasError: boolean;
  readonly children: readonly PyNode[];
  readonly namedChildren: readonly PyNode[];
  readonly parent: PyNode | null;
  childForFieldName(field: string): PyNode | null;
  childrenForFieldName(field: string): readonly PyNode[];
}

export interface ParsedSource {
  readonly text: string;
  readonly root: PyNode;
}

interface NativeParser {
  setLanguage(language: unknown): void;
  parse(input: string): { rootNode: PyNode };
}

let parser: NativeParser | undefined;

function loadParser(): NativeParser {
  if (parser) return parser;
  // createRequire: both packages are CommonJS native addons.
  const require = createRequire(import.meta.url);
  const Parser = require('tree-sitter') as new () => NativeParser;
  const python = require('tree-sitter-python') as unknown;
  parser = new Parser();
  parser.setLanguage(python);
  return parser;
}

/** Parses Python source text; never throws for bad syntax (the tree holds ERROR nodes). */
export function parsePython(text: string): ParsedSource {
  const p = loadParser();
  const tree = p.parse(text);
  return { text, root: tree.rootNode };
}
