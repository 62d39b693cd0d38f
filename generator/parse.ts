/**
 * The only file that knows which tree-sitter binding we use. It returns the syntax tree
 * as the small {@link PyNode} surface that extract.ts reads, so the native binding could
 * be swapped for web-tree-sitter (same trees, no native build) by changing this file alone.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

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

/** What the native binding's tree cursor offers (the part we call). */
interface NativeCursor {
  readonly nodeTypeId: number;
  readonly nodeType: string;
  readonly nodeIsNamed: boolean;
  readonly nodeIsMissing: boolean;
  readonly currentFieldId: number | undefined;
  readonly currentFieldName: string;
  readonly currentDescendantIndex: number;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly currentNode: { readonly hasError: boolean };
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
  gotoDescendant(index: number): void;
}

interface NativeTree {
  readonly rootNode: { readonly hasError: boolean };
  walk(): NativeCursor;
}

interface NativeParser {
  setLanguage(language: unknown): void;
  parse(input: string): NativeTree;
}

let parser: NativeParser | undefined;

// Both packages are CommonJS native addons, loaded on the first parse. The CLI bundle
// (build-cli.ts) turns these `nativeRequire` calls into its own bundled requires, so
// tree-sitter's JavaScript and node-gyp-build run from the bundle's code cache instead
// of being found and compiled on every run.
const nativeRequire = createRequire(import.meta.url);

function loadParser(): NativeParser {
  if (parser) return parser;
  const Parser = nativeRequire('tree-sitter') as (new () => NativeParser) & { SyntaxNode: unknown };
  // The grammar's binary, found as its own index.js finds it; that file would also parse
  // node-types.json (65 KB, a millisecond) for the typed node classes we do not use.
  const locate = nativeRequire('node-gyp-build') as (dir: string) => { nodeSubclasses?: unknown };
  const python = locate(dirname(nativeRequire.resolve('tree-sitter-python/package.json')));
  // setLanguage would otherwise build a JavaScript class per node type (milliseconds of
  // every run) for typed field getters we never use: we read the tree through a cursor.
  // Only the root node is ever made into a binding node object, as a plain SyntaxNode.
  python.nodeSubclasses ??= new Proxy([], { get: () => Parser.SyntaxNode });
  parser = new Parser();
  parser.setLanguage(python);
  return parser;
}

/** Per-language tables filled as ids are first seen (a string from the addon costs more than a number). */
const typeNames: string[] = [];
const typeNamed: boolean[] = [];
/** For an anonymous token with a fixed spelling ('def', '(', '->'): its length; else -1. */
const tokenLength: number[] = [];
const fieldNames: string[] = [];

/** One parsed tree: the cursor every node's lazy reads go through, and the source. */
class TreeReader {
  readonly cursor: NativeCursor;
  readonly hasError: boolean;

  constructor(
    readonly tree: NativeTree,
    readonly source: string,
  ) {
    this.cursor = tree.walk();
    this.hasError = tree.rootNode.hasError;
  }

  /** Copies the current node's data in one go, with the cursor on it. */
  read(): TreeNode {
    const c = this.cursor;
    const id = c.nodeTypeId;
    let type = typeNames[id];
    if (type === undefined) {
      type = typeNames[id] = c.nodeType;
      typeNamed[id] = c.nodeIsNamed;
      // 'is not' and 'not in' may be spelled with any whitespace between their words.
      tokenLength[id] = typeNamed[id] || /\s/.test(type) ? -1 : type.length;
    }
    // The binding gives undefined (not 0) for a node that fills no field.
    const fieldId = c.currentFieldId;
    const field = fieldId ? (fieldNames[fieldId] ??= c.currentFieldName) : null;
    const start = c.startIndex;
    // An anonymous token's text is its type; in a tree without errors (no zero-width
    // MISSING tokens) that gives its end without asking the addon.
    const length = tokenLength[id]!;
    const end = length < 0 || this.hasError ? c.endIndex : start + length;
    return new TreeNode(this, type, typeNamed[id]!, field, c.currentDescendantIndex, start, end);
  }

  /**
   * Every descendant of `node` whose type is wanted, in source order: one cursor walk that
   * copies only the matches (raise statements in a module cost a pass, not a node per call).
   */
  descendantsOf(node: TreeNode, wanted: ReadonlySet<string>): TreeNode[] {
    const c = this.cursor;
    c.gotoDescendant(node.descendant);
    const out: TreeNode[] = [];
    if (!c.gotoFirstChild()) return out;
    let depth = 1;
    for (;;) {
      const id = c.nodeTypeId;
      if (wanted.has(typeNames[id] ?? c.nodeType)) out.push(this.read());
      if (c.gotoFirstChild()) {
        depth++;
        continue;
      }
      while (!c.gotoNextSibling()) {
        if (--depth === 0) return out;
        c.gotoParent();
      }
    }
  }

  /** A node's children, read in one pass along the cursor. */
  childrenOf(node: TreeNode): TreeNode[] {
    const c = this.cursor;
    c.gotoDescendant(node.descendant);
    const out: TreeNode[] = [];
    if (c.gotoFirstChild()) {
      do out.push(this.read());
      while (c.gotoNextSibling());
    }
    return out;
  }
}

/**
 * A node read through the tree's cursor: type, field and offsets are copied when its
 * parent's children are read (one pass, a handful of addon calls per node); its own
 * children are read only if asked for, so function bodies nobody looks at cost nothing.
 */
class TreeNode implements PyNode {
  // Fields are declared and assigned in the constructor, never initialised in the class
  // body: with ES2022 class fields, a declared field (a parameter property included) makes
  // every construction call an initialiser function, and a run reads thousands of nodes cold.
  declare readonly reader: TreeReader;
  declare readonly type: string;
  declare readonly isNamed: boolean;
  /** The field this node fills in its parent (`name`, `body`, ...), if any. */
  declare readonly field: string | null;
  /** Its position in a pre-order walk of the tree: where the cursor goes to read it again. */
  declare readonly descendant: number;
  declare readonly startIndex: number;
  declare readonly endIndex: number;
  declare private childList: TreeNode[] | undefined;
  declare private namedList: TreeNode[] | undefined;

  constructor(reader: TreeReader, type: string, isNamed: boolean, field: string | null, descendant: number, startIndex: number, endIndex: number) {
    this.reader = reader;
    this.type = type;
    this.isNamed = isNamed;
    this.field = field;
    this.descendant = descendant;
    this.startIndex = startIndex;
    this.endIndex = endIndex;
    this.childList = undefined;
    this.namedList = undefined;
  }

  get source(): string {
    return this.reader.source;
  }
  get text(): string {
    return this.reader.source.slice(this.startIndex, this.endIndex);
  }
  get isMissing(): boolean {
    if (!this.reader.hasError) return false;
    this.reader.cursor.gotoDescendant(this.descendant);
    return this.reader.cursor.nodeIsMissing;
  }
  get hasError(): boolean {
    if (!this.reader.hasError) return false;
    this.reader.cursor.gotoDescendant(this.descendant);
    return this.reader.cursor.currentNode.hasError;
  }
  get children(): readonly TreeNode[] {
    return (this.childList ??= this.reader.childrenOf(this));
  }
  get namedChildren(): readonly TreeNode[] {
    return (this.namedList ??= this.children.filter((n) => n.isNamed));
  }
  get firstChild(): TreeNode | null {
    return this.children[0] ?? null;
  }
  childForFieldName(field: string): TreeNode | null {
    for (const n of this.children) if (n.field === field) return n;
    return null;
  }
  childrenForFieldName(field: string): readonly TreeNode[] {
    return this.children.filter((n) => n.field === field);
  }
  descendantsOfType(types: readonly string[]): readonly TreeNode[] {
    return this.reader.descendantsOf(this, new Set(types));
  }
}

/** Parses Python source text; never throws for bad syntax (the tree holds ERROR nodes). */
export function parsePython(text: string): ParsedSource {
  const reader = new TreeReader(loadParser().parse(text), text);
  return { text, root: reader.read() };
}
