/**
 * The only file that knows which tree-sitter binding we use. It returns the syntax tree
 * as the small {@link PyNode} surface that extract.ts reads, so the native binding could
 * be swapped for web-tree-sitter (same trees, no native build) by changing this file alone.
 */
import { createRequire } from 'node:module';

/** The part of a tree-sitter node the extractor relies on. Offsets are UTF-16 code units. */
export interface PyNode {
  readonly type: string;
  /** The text the offsets index into (the whole file, or the piece that was parsed). */
  readonly source: string;
  readonly text: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly isMissing: boolean;
  readonly hasError: boolean;
  readonly children: readonly PyNode[];
  readonly namedChildren: readonly PyNode[];
  readonly firstChild: PyNode | null;
  childForFieldName(field: string): PyNode | null;
  childrenForFieldName(field: string): readonly PyNode[];
  /** Every descendant of these types, in source order: one native call instead of a walk (tree-sitter nodes only). */
  descendantsOfType?(types: readonly string[]): readonly PyNode[];
}

export interface ParsedSource {
  readonly text: string;
  readonly root: PyNode;
}

/** What the native binding's nodes offer (a superset of what we read). */
interface NativeNode {
  readonly type: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly isMissing: boolean;
  readonly hasError: boolean;
  readonly children: NativeNode[];
  readonly namedChildren: NativeNode[];
  readonly firstChild: NativeNode | null;
  childForFieldName(field: string): NativeNode | null;
  childrenForFieldName(field: string): NativeNode[];
  descendantsOfType(types: string | string[]): NativeNode[];
}

interface NativeParser {
  setLanguage(language: unknown): void;
  parse(input: string): { rootNode: NativeNode };
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

/**
 * Every property of a native node is a call into the addon (a few microseconds each);
 * the extractor reads the same properties many times, so each is fetched once and kept.
 */
class CachedNode implements PyNode {
  #type: string | undefined;
  #start = -1;
  #end = -1;
  #children: CachedNode[] | undefined;
  #named: CachedNode[] | undefined;
  #fields: Map<string, CachedNode | null> | undefined;

  constructor(
    readonly native: NativeNode,
    readonly source: string,
  ) {}

  get type(): string {
    return (this.#type ??= this.native.type);
  }
  get startIndex(): number {
    if (this.#start < 0) this.#start = this.native.startIndex;
    return this.#start;
  }
  get endIndex(): number {
    if (this.#end < 0) this.#end = this.native.endIndex;
    return this.#end;
  }
  get text(): string {
    return this.source.slice(this.startIndex, this.endIndex);
  }
  get isMissing(): boolean {
    return this.native.isMissing;
  }
  get hasError(): boolean {
    return this.native.hasError;
  }
  get children(): readonly CachedNode[] {
    return (this.#children ??= this.native.children.map((n) => new CachedNode(n, this.source)));
  }
  get namedChildren(): readonly CachedNode[] {
    return (this.#named ??= this.native.namedChildren.map((n) => new CachedNode(n, this.source)));
  }
  get firstChild(): CachedNode | null {
    if (this.#children) return this.#children[0] ?? null;
    const n = this.native.firstChild;
    return n ? new CachedNode(n, this.source) : null;
  }
  childForFieldName(field: string): CachedNode | null {
    this.#fields ??= new Map();
    let found = this.#fields.get(field);
    if (found === undefined) {
      const n = this.native.childForFieldName(field);
      found = n ? new CachedNode(n, this.source) : null;
      this.#fields.set(field, found);
    }
    return found;
  }
  childrenForFieldName(field: string): readonly CachedNode[] {
    return this.native.childrenForFieldName(field).map((n) => new CachedNode(n, this.source));
  }
  descendantsOfType(types: readonly string[]): readonly CachedNode[] {
    return this.native.descendantsOfType([...types]).map((n) => new CachedNode(n, this.source));
  }
}

/** Parses Python source text; never throws for bad syntax (the tree holds ERROR nodes). */
export function parsePython(text: string): ParsedSource {
  const tree = loadParser().parse(text);
  return { text, root: new CachedNode(tree.rootNode, text) };
}
