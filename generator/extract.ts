/**
 * Walks a Python module's syntax tree for Celery tasks (`@app.task`, `@shared_task`,
 * `Task` subclasses registered with `register_task`) and the classes and aliases their
 * annotations may name. Produces an {@link ExtractedModule}; never throws for bad input:
 * syntax errors become diagnostics, and the code around them is still searched.
 */
import { cleandoc } from './docstrings.js';
import { type Diagnostic, type DiagnosticCode, LineMap, diagnosticAt } from './diagnostics.js';
import type {
  AppStatement,
  ConstExpr,
  EnumFlavor,
  ExtractedAlias,
  ExtractedClass,
  ExtractedClassDef,
  ExtractedField,
  ExtractedModule,
  ExtractedParam,
  ExtractedTask,
  PyType,
  Span,
} from './extracted.js';
import { MAX_TYPE_NESTING } from './extracted.js';
import type { DefaultValue, JsonValue, Location, ParamKind } from './model.js';
import { type PyNode, parsePython } from './parse.js';
import { type LiteralResult, decodeStringLiteral, evaluateLiteral, stringValue } from './py-literal.js';
import { findSyntaxErrors, recoverChunks } from './syntax-errors.js';
import { collectRaises, descendants } from './raises.js';

/** Celery 3/4 task decorators, by the name they are imported as. */
const LEGACY_DECORATORS = new Set(['celery.task', 'celery.task.task', 'celery.task.periodic_task', 'celery.decorators.task', 'celery.decorators.periodic_task']);

/** CPython's limit on nested blocks (MAXINDENT in its tokenizer). */
const MAX_INDENT = 100;

/** Per-file state: positions are `base + node.startIndex` (base > 0 for re-parsed chunks). */
interface Source {
  readonly file: string;
  readonly module: string;
  readonly text: string;
  readonly lines: LineMap;
  readonly base: number;
  /** The tree the nodes belong to (the file's, or a re-parsed piece's). */
  readonly root: PyNode;
}

interface PendingClassTask {
  readonly node: PyNode;
  readonly src: Source;
}

class ModuleExtractor {
  readonly tasks: ExtractedTask[] = [];
  readonly classes: ExtractedClass[] = [];
  readonly aliases: ExtractedAlias[] = [];
  readonly classDefs: ExtractedClassDef[] = [];
  readonly imports: { [local: string]: string } = {};
  readonly constants: { [name: string]: ConstExpr } = {};
  readonly importedModules: string[] = [];
  readonly starImports: string[] = [];
  readonly appStatements: AppStatement[] = [];
  readonly diagnostics: Diagnostic[] = [];
  /** Task subclasses in source order; registered ones become tasks at the end. */
  readonly #taskClasses: PendingClassTask[] = [];
  readonly #registered = new Set<string>();
  /** Every raise statement of a tree, in source order: one query per file, not one per task. */
  readonly #raiseNodes = new Map<PyNode, readonly PyNode[]>();
  /** Every top-level class node by name, to follow base classes. */
  readonly #classNodes = new Map<string, PyNode>();

  constructor(
    readonly file: string,
    readonly module: string,
    /** An `__init__.py`: relative imports start from the module itself, not its parent. */
    readonly isPackage: boolean,
  ) {}

  diag(src: Source, node: PyNode, severity: 'error' | 'warning', code: DiagnosticCode, message: string): void {
    this.diagnostics.push(diagnosticAt(src.file, src.lines, src.base + node.startIndex, src.base + node.endIndex, severity, code, message));
  }

  location(src: Source, node: PyNode, within = 0): Location {
    const offset = src.base + node.startIndex + within;
    const line = src.lines.line(offset);
    return { file: src.file, line, column: src.lines.column(line, offset) };
  }

  /** One object per span (no intermediate positions): every annotation node gets one. */
  span(src: Source, node: PyNode): Span {
    const start = src.base + node.startIndex;
    const end = src.base + node.endIndex;
    const lines = src.lines;
    const line = lines.line(start);
    const endLine = lines.line(end);
    return { line, column: lines.column(line, start), endLine, endColumn: lines.column(endLine, end) };
  }

  /** Module-level statements, descending into if/try/with blocks that run at import time. */
  walkBlock(nodes: readonly PyNode[], src: Source, typeOnly: boolean, depth = 0): void {
    for (const node of nodes) this.walkStatement(node, src, typeOnly, depth);
  }

  walkStatement(node: PyNode, src: Source, typeOnly: boolean, depth = 0): void {
    if (depth > MAX_INDENT) {
      // CPython refuses this too (IndentationError), and the recursion stays bounded.
      this.diag(src, node, 'error', 'syntax-error', `syntax error: too many levels of indentation (at most ${MAX_INDENT})`);
      return;
    }
    switch (node.type) {
      case 'import_statement':
      case 'import_from_statement':
        this.recordImport(node);
        return;
      case 'decorated_definition': {
        const def = node.childForFieldName('definition');
        if (!def) return;
        const decorators = node.namedChildren.filter((c) => c.type === 'decorator');
        if (def.type === 'function_definition') {
          if (!typeOnly) this.functionTask(def, decorators, src, node);
        } else if (def.type === 'class_definition') {
          this.classDefinition(def, decorators, src, typeOnly);
        }
        return;
      }
      case 'class_definition':
        this.classDefinition(node, [], src, typeOnly);
        return;
      case 'expression_statement':
        this.expressionStatement(node, src);
        return;
      case 'type_alias_statement': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left && right) this.aliases.push({ name: left.text, type: this.pyType(right, src) });
        return;
      }
      case 'if_statement': {
        const condition = node.childForFieldName('condition');
        const checking = condition !== null && /^(?:[\w.]+\.)?TYPE_CHECKING$/.test(condition.text.replace(/\s+/g, ''));
        const consequence = node.childForFieldName('consequence');
        if (consequence) this.walkBlock(consequence.namedChildren, src, typeOnly || checking, depth + 1);
        for (const alt of node.childrenForFieldName('alternative')) {
          const body = alt.childForFieldName('body') ?? alt.childForFieldName('consequence');
          if (body) this.walkBlock(body.namedChildren, src, typeOnly, depth + 1);
        }
        return;
      }
      case 'try_statement':
      case 'with_statement':
      case 'block':
      case 'except_clause':
      case 'else_clause':
      case 'finally_clause': {
        for (const child of node.namedChildren) {
          if (child.type === 'block') this.walkBlock(child.namedChildren, src, typeOnly, depth + 1);
          else if (child.type.endsWith('_clause')) this.walkStatement(child, src, typeOnly, depth);
        }
        return;
      }
      default:
        return;
    }
  }

  /**
   * Reads an import statement from its text (no comments or strings can hide in one), which
   * costs no native node calls: task modules start with many imports.
   */
  recordImport(node: PyNode): void {
    const text = node.text.replace(/#[^\n]*/g, '').replace(/\\\r?\n/g, ' ').replace(/[()]/g, ' ').replace(/\s+/g, ' ').trim();
    const plain = /^import (.+)$/.exec(text);
    if (plain) {
      for (const part of plain[1]!.split(',')) {
        const [dotted, alias] = part.trim().split(' as ') as [string, string | undefined];
        if (!/^[\w.]+$/.test(dotted)) continue;
        this.importedModules.push(dotted);
        if (alias !== undefined) this.imports[alias.trim()] = dotted;
        else {
          // `import a.b` binds `a`, and imports a, a.b.
          const head = dotted.split('.')[0]!;
          if (!Object.hasOwn(this.imports, head)) this.imports[head] = head;
        }
      }
      return;
    }
    const fromImport = /^from (\S+) import (.+)$/.exec(text);
    if (!fromImport) return;
    const from = this.absoluteModule(fromImport[1]!);
    if (from === null) return;
    this.importedModules.push(from);
    for (const part of fromImport[2]!.split(',')) {
      const [name, alias] = part.trim().split(' as ') as [string, string | undefined];
      if (name === '*') {
        this.starImports.push(from);
        continue;
      }
      if (!/^\w+$/.test(name)) continue;
      this.imports[alias === undefined ? name : alias.trim()] = `${from}.${name}`;
      // `from pkg import mod` may name a submodule: project.ts follows it if it is a file.
      this.importedModules.push(`${from}.${name}`);
    }
  }

  /** `.schemas` in `proj.billing.tasks` → `proj.billing.schemas`; null when it climbs above the top package. */
  absoluteModule(written: string): string | null {
    const dots = /^\.*/.exec(written)![0].length;
    if (dots === 0) return written;
    const parts = this.module.split('.');
    const base = this.isPackage ? parts : parts.slice(0, -1);
    if (dots - 1 > base.length) return null;
    const kept = base.slice(0, base.length - (dots - 1));
    const rest = written.slice(dots);
    return [...kept, ...(rest === '' ? [] : [rest])].join('.');
  }

  expressionStatement(node: PyNode, src: Source): void {
    const expr = node.namedChildren[0];
    if (!expr) return;
    if (expr.type === 'assignment') {
      const left = expr.childForFieldName('left');
      const right = expr.childForFieldName('right');
      const type = expr.childForFieldName('type');
      if (right) this.findRegistrations(right);
      if (left && right && left.type === 'attribute') this.confAssignment(left, right, src);
      if (left && right && left.type === 'subscript') this.environAssignment(left, right, src);
      if (!left || left.type !== 'identifier' || !right) return;
      this.constants[left.text] = this.constExpr(right, src);
      if (right.type === 'call' && /(^|\.)Celery$/.test(this.canonical(right.childForFieldName('function')?.text ?? ''))) {
        const namespace = keywordArgument(right, 'namespace');
        this.appStatements.push({ kind: 'app', variable: left.text, span: this.span(src, left), namespace: namespace && this.constExpr(namespace, src) });
      }
      const isTypeAlias = type !== null && /(^|\.)TypeAlias$/.test(type.text.trim());
      if (right.type === 'call') {
        const fn = right.childForFieldName('function');
        const args = right.childForFieldName('arguments')?.namedChildren ?? [];
        // `UserId = NewType('UserId', int)` travels as the underlying type.
        if (fn && /(^|\.)NewType$/.test(fn.text) && args[1]) this.aliases.push({ name: left.text, type: this.pyType(args[1], src) });
        return;
      }
      if (isTypeAlias || right.type === 'subscript' || (right.type === 'binary_operator' && operatorOf(right) === '|')) {
        this.aliases.push({ name: left.text, type: this.pyType(right, src) });
      } else if (type === null && (right.type === 'identifier' || right.type === 'attribute')) {
        this.aliases.push({ name: left.text, type: this.pyType(right, src) });
      }
      return;
    }
    this.findRegistrations(expr);
    if (expr.type === 'call') this.confCall(expr, src);
  }

  /** `app.conf.task_routes = ...`, `app.conf.task_default_queue = ...`. */
  confAssignment(left: PyNode, right: PyNode, src: Source): void {
    const m = /^(\w+)\.conf\.(\w+)$/.exec(left.text.replace(/\s+/g, ''));
    if (m) this.appStatements.push({ kind: 'conf', variable: m[1]!, key: m[2]!, value: this.constExpr(right, src) });
  }

  /** `os.environ['KEY'] = value`. */
  environAssignment(left: PyNode, right: PyNode, src: Source): void {
    const target = left.childForFieldName('value');
    const key = left.childForFieldName('subscript');
    if (!target || !key || this.canonical(target.text.replace(/\s+/g, '')) !== 'os.environ') return;
    const k = this.constExpr(key, src);
    if (k.kind === 'literal' && typeof k.value === 'string') this.appStatements.push({ kind: 'environ', key: k.value, value: this.constExpr(right, src) });
  }

  /** `app.conf.update(task_routes=..., ...)` or `update({...})`, `app.config_from_object('mod')`, and `os.environ.setdefault('KEY', value)`. */
  confCall(call: PyNode, src: Source): void {
    const fn = call.childForFieldName('function')?.text.replace(/\s+/g, '') ?? '';
    const args = (call.childForFieldName('arguments')?.namedChildren ?? []).filter((a) => a.type !== 'comment');
    const update = /^(\w+)\.conf\.update$/.exec(fn);
    if (update) {
      for (const a of args) {
        if (a.type === 'keyword_argument') {
          const key = a.childForFieldName('name')?.text;
          const value = a.childForFieldName('value');
          if (key && value) this.appStatements.push({ kind: 'conf', variable: update[1]!, key, value: this.constExpr(value, src) });
        } else if (a.type === 'dictionary') {
          const dict = this.constExpr(a, src);
          if (dict.kind !== 'dict') continue;
          for (const [k, v] of dict.entries) {
            if (k.kind === 'literal' && typeof k.value === 'string') this.appStatements.push({ kind: 'conf', variable: update[1]!, key: k.value, value: v });
          }
        }
      }
      return;
    }
    const fromObject = /^(\w+)\.config_from_object$/.exec(fn);
    if (fromObject && args[0] && args[0].type !== 'keyword_argument') {
      const namespace = keywordArgument(call, 'namespace');
      this.appStatements.push({ kind: 'config-from-object', variable: fromObject[1]!, value: this.constExpr(args[0], src), namespace: namespace && this.constExpr(namespace, src) });
      return;
    }
    if (this.canonical(fn) === 'os.environ.setdefault' && args.length === 2 && args.every((a) => a.type !== 'keyword_argument')) {
      const key = this.constExpr(args[0]!, src);
      if (key.kind === 'literal' && typeof key.value === 'string') this.appStatements.push({ kind: 'environ', key: key.value, value: this.constExpr(args[1]!, src) });
    }
  }

  /** The expression as evaluate.ts reads it; bounded depth (deeper is `other`). */
  constExpr(node: PyNode, src: Source, depth = 0): ConstExpr {
    const text = node.text;
    const span = this.span(src, node);
    if (depth > MAX_TYPE_NESTING) return { kind: 'other', text, span };
    switch (node.type) {
      case 'identifier':
        return { kind: 'name', name: text, text, span };
      case 'attribute': {
        const plain = text.replace(/\s+/g, '');
        return /^[\w.]+$/.test(plain) ? { kind: 'name', name: plain, text, span } : { kind: 'other', text, span };
      }
      case 'parenthesized_expression': {
        const inner = node.namedChildren.filter((c) => c.type !== 'comment');
        return inner.length === 1 ? this.constExpr(inner[0]!, src, depth + 1) : { kind: 'other', text, span };
      }
      case 'string': {
        if (!/^[a-zA-Z]*[fF]/.test(text)) break;
        if (node.children.length > 0) return this.fString(node, src, depth);
        // A node without children (the fast header path): parse the f-string on its own,
        // offsets based at its start so positions stay those of the file.
        const piece = parsePython(text).root.namedChildren[0]?.namedChildren[0];
        if (piece?.type === 'string') return this.fString(piece, { ...src, base: src.base + node.startIndex }, depth);
        return { kind: 'other', text, span };
      }
      case 'binary_operator':
        if (operatorOf(node) === '+') {
          const left = node.childForFieldName('left');
          const right = node.childForFieldName('right');
          if (left && right) return { kind: 'add', left: this.constExpr(left, src, depth + 1), right: this.constExpr(right, src, depth + 1), text, span };
        }
        return { kind: 'other', text, span };
      case 'list':
      case 'tuple':
        if (!evaluateLiteral(node).ok) {
          return { kind: 'list', items: node.namedChildren.filter((c) => c.type !== 'comment').map((c) => this.constExpr(c, src, depth + 1)), text, span };
        }
        break;
      case 'dictionary':
        if (!evaluateLiteral(node).ok) {
          const entries: [ConstExpr, ConstExpr][] = [];
          for (const pair of node.namedChildren) {
            const k = pair.type === 'pair' ? pair.childForFieldName('key') : null;
            const v = pair.type === 'pair' ? pair.childForFieldName('value') : null;
            if (pair.type === 'comment') continue;
            if (!k || !v) return { kind: 'other', text, span };
            entries.push([this.constExpr(k, src, depth + 1), this.constExpr(v, src, depth + 1)]);
          }
          return { kind: 'dict', entries, text, span };
        }
        break;
      case 'call': {
        const callee = node.childForFieldName('function')?.text.replace(/\s+/g, '') ?? '';
        const args: ConstExpr[] = [];
        const keywords: { [name: string]: ConstExpr } = {};
        for (const a of node.childForFieldName('arguments')?.namedChildren ?? []) {
          if (a.type === 'comment') continue;
          if (a.type === 'keyword_argument') {
            const k = a.childForFieldName('name')?.text;
            const v = a.childForFieldName('value');
            if (k && v) keywords[k] = this.constExpr(v, src, depth + 1);
          } else args.push(this.constExpr(a, src, depth + 1));
        }
        return { kind: 'call', callee: this.canonical(callee), args, keywords, text, span };
      }
      default:
        break;
    }
    const lit = evaluateLiteral(node);
    return lit.ok ? { kind: 'literal', value: lit.value, text, span } : { kind: 'other', text, span };
  }

  /** `f"{PREFIX}.refund"`: text pieces and interpolated expressions (no conversions or format specs). */
  fString(node: PyNode, src: Source, depth: number): ConstExpr {
    const text = node.text;
    const span = this.span(src, node);
    const raw = (node.children[0]?.text ?? '').toLowerCase().includes('r');
    const parts: (string | ConstExpr)[] = [];
    for (const child of node.children) {
      if (child.type === 'string_content') {
        const decoded = raw ? child.text : decodeStringLiteral(`'${child.text}'`);
        if (decoded === null) return { kind: 'other', text, span };
        parts.push(decoded.replace(/\{\{/g, '{').replace(/\}\}/g, '}'));
      } else if (child.type === 'interpolation') {
        const inner = child.namedChildren.filter((c) => c.type !== 'comment');
        if (inner.length !== 1) return { kind: 'other', text, span };
        parts.push(this.constExpr(inner[0]!, src, depth + 1));
      }
    }
    return { kind: 'fstring', parts, text, span };
  }

  /** `app.register_task(SendReceipt())`, `app.register_task(SendReceipt)`, `app.tasks.register(...)`. */
  findRegistrations(expr: PyNode): void {
    if (expr.type !== 'call') return;
    const fn = expr.childForFieldName('function');
    if (!fn || !/(^|\.)(register_task|register)$/.test(fn.text)) return;
    const arg = expr.childForFieldName('arguments')?.namedChildren[0];
    if (!arg) return;
    const target = arg.type === 'call' ? arg.childForFieldName('function') : arg;
    if (target && target.type === 'identifier') this.#registered.add(target.text);
  }

  /** The kind of task decorator this is, if it is one. */
  taskDecorator(decorator: PyNode): { call: PyNode | null } | null {
    const expr = decorator.namedChildren.find((c) => c.type !== 'comment');
    if (!expr) return null;
    const target = expr.type === 'call' ? expr.childForFieldName('function') : expr;
    if (!target) return null;
    const call = expr.type === 'call' ? expr : null;
    if (target.type === 'attribute') {
      const attr = target.childForFieldName('attribute')?.text;
      if (attr === 'task' || attr === 'shared_task') return { call };
      return null;
    }
    if (target.type === 'identifier') {
      const name = target.text;
      const imported = Object.hasOwn(this.imports, name) ? this.imports[name] : undefined;
      if (name === 'shared_task' && (imported === undefined || imported.endsWith('.shared_task'))) return { call };
      if (imported !== undefined && /^celery(\.|$)/.test(imported) && imported.endsWith('.shared_task')) return { call };
      // Celery 3/4: `from celery import task`, `from celery.task import task, periodic_task`
      // (celery.task was removed in 5.0, but codebases still carry these decorators).
      if (imported !== undefined && LEGACY_DECORATORS.has(imported)) return { call };
    }
    return null;
  }

  functionTask(def: PyNode, decorators: readonly PyNode[], src: Source, full: PyNode): void {
    let found: { call: PyNode | null } | null = null;
    for (const d of decorators) {
      found = this.taskDecorator(d);
      if (found) break;
    }
    if (!found) return;
    const nameNode = def.childForFieldName('name');
    if (!nameNode) return;
    const fnName = nameNode.text;
    const { options, nonLiteral, nodes } = this.keywordOptions(found.call);
    // A non-literal name= is resolved across modules by evaluate.ts, or reported there.
    const name = typeof options['name'] === 'string' && !nonLiteral.includes('name') ? options['name'] : `${this.module}.${fnName}`;
    const bind = options['bind'] === true;
    const doc = docstringOf(def);
    const params = this.parameters(def, src);
    let visible = params;
    if (bind) {
      if (params.length === 0 || params[0]!.kind === 'var_keyword' || params[0]!.kind === 'keyword_only') {
        this.diag(src, nameNode, 'error', 'unsupported-signature', `bind=True task '${fnName}' has no first parameter to receive the task`);
      } else if (params[0]!.kind !== 'var_positional') visible = params.slice(1);
    }
    this.tasks.push({
      name,
      function: fnName,
      module: this.module,
      kind: 'function',
      async: def.firstChild?.type === 'async',
      bind,
      params: visible,
      returns: this.annotation(def.childForFieldName('return_type'), src),
      options,
      nonLiteralOptions: nonLiteral,
      optionExprs: this.optionExprs(nonLiteral, nodes, src),
      doc,
      location: this.location(src, nameNode),
      raises: this.raises(full, params, doc, full, nodes, src),
    });
  }

  optionExprs(nonLiteral: readonly string[], nodes: ReadonlyMap<string, PyNode>, src: Source): { [key: string]: ConstExpr } {
    const out: { [key: string]: ConstExpr } = {};
    for (const key of nonLiteral) {
      const node = nodes.get(key);
      if (node && key !== '__proto__') out[key] = this.constExpr(node, src);
    }
    return out;
  }

  keywordOptions(call: PyNode | null): { options: { [key: string]: JsonValue }; nonLiteral: string[]; nodes: Map<string, PyNode> } {
    const options: { [key: string]: JsonValue } = {};
    const nonLiteral: string[] = [];
    const nodes = new Map<string, PyNode>();
    const args = call?.childForFieldName('arguments');
    for (const arg of args?.namedChildren ?? []) {
      if (arg.type !== 'keyword_argument') continue;
      const key = arg.childForFieldName('name')?.text;
      const value = arg.childForFieldName('value');
      if (!key || !value) continue;
      this.setOption(options, nonLiteral, key, value);
      nodes.set(key, value);
    }
    return { options, nonLiteral, nodes };
  }

  setOption(options: { [key: string]: JsonValue }, nonLiteral: string[], key: string, value: PyNode): void {
    const literal = evaluateLiteral(value);
    const v = literal.ok ? literal.value : value.text;
    // An option named `__proto__` must stay an ordinary key (assignment would set the prototype).
    if (key === '__proto__') Object.defineProperty(options, key, { value: v, enumerable: true, writable: true, configurable: true });
    else options[key] = v;
    const i = nonLiteral.indexOf(key);
    if (i >= 0) nonLiteral.splice(i, 1);
    if (!literal.ok) nonLiteral.push(key);
  }

  parameters(def: PyNode, src: Source): ExtractedParam[] {
    const list = def.childForFieldName('parameters');
    const out: ExtractedParam[] = [];
    let keywordOnly = false;
    for (const p of list?.namedChildren ?? []) {
      let name: PyNode | null = null;
      let kind: ParamKind = keywordOnly ? 'keyword_only' : 'positional_or_keyword';
      let type: PyNode | null = null;
      let value: PyNode | null = null;
      switch (p.type) {
        case 'identifier':
          name = p;
          break;
        case 'typed_parameter': {
          const inner = p.namedChildren.find((c) => c.type !== 'type' && c.type !== 'comment') ?? null;
          type = p.childForFieldName('type');
          if (inner?.type === 'list_splat_pattern') {
            name = inner.namedChildren[0] ?? null;
            kind = 'var_positional';
          } else if (inner?.type === 'dictionary_splat_pattern') {
            name = inner.namedChildren[0] ?? null;
            kind = 'var_keyword';
          } else name = inner;
          break;
        }
        case 'default_parameter':
        case 'typed_default_parameter':
          name = p.childForFieldName('name');
          type = p.childForFieldName('type');
          value = p.childForFieldName('value');
          break;
        case 'list_splat_pattern':
          name = p.namedChildren[0] ?? null;
          kind = 'var_positional';
          break;
        case 'dictionary_splat_pattern':
          name = p.namedChildren[0] ?? null;
          kind = 'var_keyword';
          break;
        case 'keyword_separator':
          keywordOnly = true;
          continue;
        case 'positional_separator':
          for (let i = 0; i < out.length; i++) out[i] = { ...out[i]!, kind: 'positional_only' };
          continue;
        default:
          continue;
      }
      if (!name || name.type !== 'identifier') continue;
      if (kind === 'var_positional') keywordOnly = true;
      let dflt: DefaultValue | null = null;
      if (value) {
        const lit = this.evaluateDefault(value);
        dflt = lit.ok ? { literal: true, source: value.text, value: lit.value } : { literal: false, source: value.text };
      }
      out.push({ name: name.text, kind, annotation: type ? this.annotation(type, src) : null, default: dflt, location: this.location(src, p) });
    }
    return out;
  }

  /** A literal, or a member of an Enum defined above (`Color.RED`), whose value is what JSON carries. */
  evaluateDefault(value: PyNode): LiteralResult {
    const lit = evaluateLiteral(value);
    if (lit.ok || value.type !== 'attribute') return lit;
    const owner = value.childForFieldName('object')?.text;
    const member = value.childForFieldName('attribute')?.text;
    const cls = this.classes.find((c) => c.kind === 'enum' && c.name === owner);
    const m = cls?.members.find((x) => x.name === member && x.literal);
    return m ? { ok: true, value: m.value } : lit;
  }

  annotation(node: PyNode | null, src: Source): PyType | null {
    return node ? this.pyType(node, src) : null;
  }

  /** Converts an annotation expression; string forward references are parsed again. */
  pyType(node: PyNode, src: Source, inLiteral = false, depth = 0): PyType {
    const type = node.type;
    if (type === 'type' || type === 'parenthesized_expression') {
      // A wrapper around one expression is that expression (no span of its own to compute).
      const children = node.namedChildren;
      const named = children.length === 1 ? children : children.filter((c) => c.type !== 'comment');
      const only = named.length === 1 && named[0]!.type !== 'comment' ? named[0]! : null;
      if (only && depth <= MAX_TYPE_NESTING) return this.pyType(only, src, inLiteral, type === 'type' ? depth : depth + 1);
    }
    const text = node.text;
    const span = this.span(src, node);
    if (depth > MAX_TYPE_NESTING) return { kind: 'too-deep', text, span };
    switch (type) {
      case 'type':
      case 'parenthesized_expression':
        return { kind: 'other', text, span };
      case 'identifier':
        return text === 'None' ? { kind: 'none', text, span } : { kind: 'name', name: text, text, span };
      case 'attribute':
        return { kind: 'name', name: text.replace(/\s+/g, ''), text, span };
      case 'none':
        return { kind: 'none', text, span };
      case 'ellipsis':
        return { kind: 'ellipsis', text, span };
      case 'true':
      case 'false':
      case 'integer':
      case 'float':
      case 'unary_operator': {
        const v = evaluateLiteral(node);
        if (v.ok && (typeof v.value === 'number' || typeof v.value === 'boolean')) return { kind: 'value', value: v.value, text, span };
        return { kind: 'other', text, span };
      }
      case 'string':
      case 'concatenated_string': {
        const value = stringValue(node);
        if (value === null) return { kind: 'other', text, span };
        if (inLiteral) return { kind: 'value', value, text, span };
        return this.forwardReference(node, value, src, depth) ?? { kind: 'value', value, text, span };
      }
      case 'list':
      case 'tuple':
        return { kind: 'list', items: node.namedChildren.filter((c) => c.type !== 'comment').map((c) => this.pyType(c, src, false, depth + 1)), text, span };
      case 'generic_type': {
        const head = node.namedChildren[0];
        const params = node.namedChildren.find((c) => c.type === 'type_parameter');
        if (!head || !params) return { kind: 'other', text, span };
        const name = head.text.replace(/\s+/g, '');
        const literal = /(^|\.)Literal$/.test(name);
        const args = params.namedChildren.filter((c) => c.type !== 'comment').map((c) => this.pyType(c, src, literal, depth + 1));
        return { kind: 'generic', name, args, text, span };
      }
      case 'subscript': {
        const value = node.childForFieldName('value');
        if (!value || (value.type !== 'identifier' && value.type !== 'attribute')) return { kind: 'other', text, span };
        const name = value.text.replace(/\s+/g, '');
        const literal = /(^|\.)Literal$/.test(name);
        let subs = node.childrenForFieldName('subscript');
        // `X[(a, b)]` and `X[a, b]` mean the same; `tuple[()]` keeps its empty tuple.
        if (subs.length === 1 && subs[0]!.type === 'tuple' && subs[0]!.namedChildren.length > 0) subs = subs[0]!.namedChildren;
        return { kind: 'generic', name, args: subs.filter((c) => c.type !== 'comment').map((c) => this.pyType(c, src, literal, depth + 1)), text, span };
      }
      case 'union_type': {
        const members = node.namedChildren.filter((c) => c.type !== 'comment').map((c) => this.pyType(c, src, false, depth + 1));
        return { kind: 'union', members: members.flatMap((m) => (m.kind === 'union' ? m.members : [m])), text, span };
      }
      case 'binary_operator': {
        // `a | b | c` nests to the left: walk the spine in a loop, so a long union costs no stack.
        if (operatorOf(node) !== '|') return { kind: 'other', text, span };
        const operands: PyNode[] = [];
        let n: PyNode = node;
        while (n.type === 'binary_operator' && operatorOf(n) === '|') {
          const left = n.childForFieldName('left');
          const right = n.childForFieldName('right');
          if (!left || !right) return { kind: 'other', text, span };
          operands.push(right);
          n = left;
        }
        operands.push(n);
        const members = operands.reverse().map((c) => this.pyType(c, src, false, depth + 1));
        return { kind: 'union', members: members.flatMap((m) => (m.kind === 'union' ? m.members : [m])), text, span };
      }
      default:
        return { kind: 'other', text, span };
    }
  }

  /** Parses the content of a string annotation; positions stay those of the outer file. */
  forwardReference(node: PyNode, value: string, src: Source, depth: number): PyType | null {
    const raw = node.text;
    const quote = /^[rRuU]?('''|"""|'|")/.exec(raw);
    // Only a plain one-piece string maps offsets one to one.
    if (!quote || node.type !== 'string' || value !== raw.slice(quote[0].length, raw.length - quote[1]!.length)) return null;
    const parsed = parsePython(value);
    if (parsed.root.hasError) return null;
    const stmt = parsed.root.namedChildren.filter((c) => c.type !== 'comment');
    if (stmt.length !== 1 || stmt[0]!.type !== 'expression_statement') return null;
    const expr = stmt[0]!.namedChildren[0];
    if (!expr) return null;
    const inner: Source = { ...src, base: src.base + node.startIndex + quote[0].length };
    const type = this.pyType(expr, inner, false, depth);
    // Too deep anywhere inside the string: the whole string is, as one warning at its content.
    if (!containsTooDeep(type)) return type;
    const start = src.lines.position(inner.base);
    const end = src.lines.position(inner.base + value.length);
    return { kind: 'too-deep', text: value, span: { line: start.line, column: start.column, endLine: end.line, endColumn: end.column } };
  }

  classDefinition(def: PyNode, decorators: readonly PyNode[], src: Source, typeOnly: boolean): void {
    const nameNode = def.childForFieldName('name');
    if (!nameNode) return;
    const name = nameNode.text;
    this.#classNodes.set(name, def);
    const superclasses = def.childForFieldName('superclasses');
    const bases = (superclasses?.namedChildren ?? []).filter((b) => b.type !== 'keyword_argument' && b.type !== 'comment');
    const keywords = (superclasses?.namedChildren ?? []).filter((b) => b.type === 'keyword_argument');
    const baseNames = bases.map((b) => b.text.replace(/\s+/g, ''));
    const lastOf = (n: string) => this.canonical(n).split('.').pop()!;

    if (decorators.some((d) => /^(?:[\w.]+\.)?register_task$/.test(d.namedChildren[0]?.text ?? ''))) this.#registered.add(name);
    // Class attributes are constants a task option may name (`queue=Queues.REPORTS`).
    for (const stmt of def.childForFieldName('body')?.namedChildren ?? []) {
      const assign = stmt.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
      const left = assign?.type === 'assignment' ? assign.childForFieldName('left') : null;
      const right = assign?.type === 'assignment' ? assign.childForFieldName('right') : null;
      if (left?.type === 'identifier' && right) this.constants[`${name}.${left.text}`] = this.constExpr(right, src);
    }

    const isTaskBase = (n: string, seen: Set<string>): boolean => {
      if (lastOf(n) === 'Task') return true;
      const node = this.#classNodes.get(n);
      if (!node || seen.has(n)) return false;
      seen.add(n);
      const sup = node.childForFieldName('superclasses')?.namedChildren ?? [];
      return sup.some((s) => s.type !== 'keyword_argument' && isTaskBase(s.text.replace(/\s+/g, ''), seen));
    };
    if (!typeOnly && baseNames.some((b) => isTaskBase(b, new Set([name])))) {
      this.#taskClasses.push({ node: def, src });
      return;
    }
    this.classDefs.push({ name, module: this.module, bases: baseNames, doc: docstringOf(def), location: this.location(src, nameNode) });

    const known = (n: string) => this.classes.find((c) => c.name === n);
    let kind: ExtractedClass['kind'] | null = null;
    let flavor: EnumFlavor = 'plain';
    const localBases: string[] = [];
    for (const b of baseNames) {
      const last = lastOf(b);
      const local = known(b);
      if (local) {
        kind ??= local.kind;
        localBases.push(b);
        if (local.kind === 'enum') flavor = local.enumFlavor;
      } else if (last === 'TypedDict') kind ??= 'typeddict';
      else if (last === 'BaseModel' || last === 'RootModel') kind ??= 'pydantic';
      else if (last === 'NamedTuple') kind ??= 'namedtuple';
      else if (['Enum', 'IntEnum', 'StrEnum', 'Flag', 'IntFlag'].includes(last)) {
        kind ??= 'enum';
        if (last === 'IntEnum' || last === 'IntFlag') flavor = 'int';
        if (last === 'StrEnum') flavor = 'str';
      }
    }
    if (kind === 'enum') {
      if (baseNames.some((b) => b === 'str')) flavor = 'str';
      if (baseNames.some((b) => b === 'int')) flavor = 'int';
    }
    if (!kind && decorators.some((d) => /^(?:[\w.]+\.)?dataclass$/.test(decoratorTarget(d)))) kind = 'dataclass';
    if (!kind) return;

    const body = def.childForFieldName('body');
    const statements = (body?.namedChildren ?? []).filter((c) => c.type !== 'comment');
    const doc = docstringOf(def);
    const total = !keywords.some((k) => k.childForFieldName('name')?.text === 'total' && k.childForFieldName('value')?.type === 'false');
    const fields: ExtractedField[] = [];
    const members: ExtractedClass['members'][number][] = [];
    let autoNext = 1;
    for (let i = 0; i < statements.length; i++) {
      const stmt = statements[i]!;
      if (stmt.type !== 'expression_statement') continue;
      const assign = stmt.namedChildren[0];
      if (!assign || assign.type !== 'assignment') continue;
      const left = assign.childForFieldName('left');
      const type = assign.childForFieldName('type');
      const value = assign.childForFieldName('right');
      if (!left || left.type !== 'identifier') continue;
      const next = statements[i + 1];
      const fieldDoc = next && next.type === 'expression_statement' && next.namedChildren[0]?.type === 'string' ? stringValue(next.namedChildren[0]) : null;
      if (kind === 'enum') {
        if (type || !value || left.text.startsWith('_')) continue;
        const lit = evaluateLiteral(value);
        if (lit.ok && (lit.value === null || typeof lit.value !== 'object')) {
          members.push({ name: left.text, value: lit.value, literal: true });
          if (typeof lit.value === 'number') autoNext = lit.value + 1;
        } else if (value.type === 'call' && /(^|\.)auto$/.test(value.childForFieldName('function')?.text ?? '')) {
          // enum.auto(): StrEnum uses the lower-cased member name, others count up from 1.
          if (flavor === 'str') members.push({ name: left.text, value: left.text.toLowerCase(), literal: true });
          else members.push({ name: left.text, value: autoNext++, literal: true });
        } else members.push({ name: left.text, value: null, literal: false });
        continue;
      }
      if (!type) continue;
      let annotation: PyType | null = this.pyType(type, src);
      const wrapper = annotation.kind === 'generic' ? lastOf(annotation.name) : '';
      if (wrapper === 'ClassVar' || (annotation.kind === 'name' && ['ClassVar', 'KW_ONLY'].includes(lastOf(annotation.name)))) continue;
      let required = true;
      if (kind === 'typeddict') {
        required = total;
        // Required/NotRequired/ReadOnly may nest (`NotRequired[ReadOnly[int]]`).
        while (annotation && annotation.kind === 'generic' && ['Required', 'NotRequired', 'ReadOnly', 'Annotated'].includes(lastOf(annotation.name))) {
          const w = lastOf(annotation.name);
          if (w === 'Required') required = true;
          if (w === 'NotRequired') required = false;
          annotation = annotation.args[0] ?? null;
        }
      } else if (kind !== 'namedtuple' && value) {
        required = fieldFactoryRequired(value);
      }
      fields.push({
        name: left.text,
        annotation,
        required: kind === 'namedtuple' ? true : required,
        defaultIsNone: value !== null && isNoneDefault(value),
        doc: fieldDoc === null ? null : cleandoc(fieldDoc),
      });
    }
    this.classes.push({
      kind,
      name,
      module: this.module,
      file: this.file,
      fields,
      members,
      enumFlavor: flavor,
      bases: localBases,
      doc,
      location: this.location(src, nameNode),
    });
  }

  /** The exceptions a task names as raised; `docOwner` is where its docstring sits. */
  raises(def: PyNode, params: readonly ExtractedParam[], doc: string | null, docOwner: PyNode, options: ReadonlyMap<string, PyNode>, src: Source) {
    const docNode = (): PyNode | null => {
      const owner = docOwner.type === 'decorated_definition' ? docOwner.childForFieldName('definition') : docOwner;
      const first = owner?.childForFieldName('body')?.namedChildren.find((c) => c.type !== 'comment');
      return first?.type === 'expression_statement' ? (first.namedChildren[0] ?? null) : null;
    };
    const locate = (node: PyNode, within?: number) => this.location(src, node, within);
    const raiseNodes = (): readonly PyNode[] => {
      let found = this.#raiseNodes.get(src.root);
      if (!found) this.#raiseNodes.set(src.root, (found = descendants(src.root, ['raise_statement'])));
      return found;
    };
    return collectRaises({ def, params: params.map((p) => p.name), doc, docNode, raiseNodes, options, locate });
  }

  canonical(name: string): string {
    const dot = name.indexOf('.');
    const head = dot < 0 ? name : name.slice(0, dot);
    const target = Object.hasOwn(this.imports, head) ? this.imports[head] : undefined;
    return target === undefined ? name : target + (dot < 0 ? '' : name.slice(dot));
  }

  /** Registered `Task` subclasses become tasks (after the whole module is read: registration may come later). */
  finishClassTasks(): void {
    for (const { node, src } of this.#taskClasses) {
      const nameNode = node.childForFieldName('name')!;
      const className = nameNode.text;
      const run = this.findRun(node, new Set());
      if (!run) continue;
      if (!this.#registered.has(className)) {
        this.diag(src, nameNode, 'warning', 'unregistered-task-class', `class '${className}' defines run() but is never passed to register_task(), so Celery does not know it; skipped`);
        continue;
      }
      const options: { [key: string]: JsonValue } = {};
      const nonLiteral: string[] = [];
      const optionNodes = new Map<string, PyNode>();
      for (const stmt of node.childForFieldName('body')?.namedChildren ?? []) {
        const assign = stmt.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
        if (!assign || assign.type !== 'assignment') continue;
        const left = assign.childForFieldName('left');
        const right = assign.childForFieldName('right');
        if (!left || left.type !== 'identifier' || !right || left.text.startsWith('_')) continue;
        this.setOption(options, nonLiteral, left.text, right);
        optionNodes.set(left.text, right);
      }
      const name = typeof options['name'] === 'string' && !nonLiteral.includes('name') ? options['name'] : `${this.module}.${className}`;
      const params = this.parameters(run.node, run.src);
      const classDoc = docstringOf(node);
      const doc = classDoc ?? docstringOf(run.node);
      this.tasks.push({
        name,
        function: className,
        module: this.module,
        kind: 'class',
        async: run.node.firstChild?.type === 'async',
        // run(self, ...) receives the task itself, as a bind=True function does.
        bind: true,
        params: params.length > 0 && params[0]!.kind !== 'var_positional' ? params.slice(1) : params,
        returns: this.annotation(run.node.childForFieldName('return_type'), run.src),
        options,
        nonLiteralOptions: nonLiteral,
        optionExprs: this.optionExprs(nonLiteral, optionNodes, src),
        doc,
        location: this.location(src, nameNode),
        raises: this.raises(run.node, params, doc, classDoc === null ? run.node : node, optionNodes, run.src),
      });
    }
    // Class tasks sit in the task list by position, like function tasks.
    this.tasks.sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
  }

  findRun(cls: PyNode, seen: Set<string>): { node: PyNode; src: Source } | null {
    const src = this.#taskClasses.find((t) => t.node === cls)?.src;
    for (const stmt of cls.childForFieldName('body')?.namedChildren ?? []) {
      const fn = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition') : stmt;
      if (fn?.type === 'function_definition' && fn.childForFieldName('name')?.text === 'run' && src) return { node: fn, src };
    }
    for (const base of cls.childForFieldName('superclasses')?.namedChildren ?? []) {
      const b = this.#classNodes.get(base.text);
      if (b && !seen.has(base.text)) {
        seen.add(base.text);
        const found = this.findRun(b, seen);
        if (found) return found;
      }
    }
    return null;
  }
}

function containsTooDeep(t: PyType): boolean {
  switch (t.kind) {
    case 'too-deep':
      return true;
    case 'generic':
      return t.args.some(containsTooDeep);
    case 'union':
      return t.members.some(containsTooDeep);
    case 'list':
      return t.items.some(containsTooDeep);
    default:
      return false;
  }
}

function operatorOf(node: PyNode): string | undefined {
  return node.childForFieldName('operator')?.type;
}

function decoratorTarget(d: PyNode): string {
  const expr = d.namedChildren[0];
  if (!expr) return '';
  const target = expr.type === 'call' ? expr.childForFieldName('function') : expr;
  return target?.text.replace(/\s+/g, '') ?? '';
}

/** The value node of keyword argument `name` in `call`, or null. */
function keywordArgument(call: PyNode, name: string): PyNode | null {
  for (const a of call.childForFieldName('arguments')?.namedChildren ?? []) {
    if (a.type === 'keyword_argument' && a.childForFieldName('name')?.text === name) return a.childForFieldName('value');
  }
  return null;
}

/** `field(...)`/`Field(...)` defaults: required unless given `default`/`default_factory` (or a positional default). */
function fieldFactoryRequired(value: PyNode): boolean {
  if (value.type !== 'call') return false;
  const fn = value.childForFieldName('function')?.text ?? '';
  if (!/(^|\.)(field|Field)$/.test(fn)) return false;
  const args = value.childForFieldName('arguments')?.namedChildren ?? [];
  for (const a of args) {
    if (a.type === 'keyword_argument') {
      const k = a.childForFieldName('name')?.text;
      if (k === 'default' || k === 'default_factory') return a.childForFieldName('value')?.type === 'ellipsis';
    } else if (a.type !== 'comment') {
      return a.type === 'ellipsis';
    }
  }
  return true;
}

function isNoneDefault(value: PyNode): boolean {
  if (value.type === 'none') return true;
  if (value.type !== 'call') return false;
  const fn = value.childForFieldName('function')?.text ?? '';
  if (!/(^|\.)(field|Field)$/.test(fn)) return false;
  const args = value.childForFieldName('arguments')?.namedChildren ?? [];
  const first = args.find((a) => a.type !== 'comment');
  if (first && first.type !== 'keyword_argument') return first.type === 'none';
  return args.some((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'default' && a.childForFieldName('value')?.type === 'none');
}

function docstringOf(def: PyNode): string | null {
  const body = def.childForFieldName('body');
  const first = body?.namedChildren.find((c) => c.type !== 'comment');
  if (!first || first.type !== 'expression_statement') return null;
  const str = first.namedChildren[0];
  if (!str || (str.type !== 'string' && str.type !== 'concatenated_string') || first.namedChildren.length !== 1) return null;
  const value = stringValue(str);
  if (value === null) return null;
  const doc = cleandoc(value);
  return doc === '' ? null : doc;
}

/**
 * Extracts one module. With syntax errors, the broken top-level statements are split at
 * lines that start a new top-level statement and parsed again, so tasks before and after
 * the error are still found; each error is reported once, at the first ERROR or MISSING
 * node of its piece.
 */
export function extractModule(file: string, module: string, source: string): ExtractedModule {
  // Python reads a lone CR as a line break (universal newlines); tree-sitter does not.
  // LF in its place keeps every offset, so positions still index the file as given.
  const text = source.includes('\r') ? source.replace(/\r(?!\n)/g, '\n') : source;
  const x = new ModuleExtractor(file, module, /(^|[\\/])__init__\.pyi?$/.test(file));
  const lines = new LineMap(text);
  const parsed = parsePython(text);
  const top: Source = { file, module, text, lines, base: 0, root: parsed.root };
  if (!parsed.root.hasError) {
    x.walkBlock(parsed.root.namedChildren, top, false);
  } else {
    for (const node of parsed.root.children) {
      if (!node.hasError && node.type !== 'ERROR' && !node.isMissing) {
        x.walkStatement(node, top, false);
        continue;
      }
      for (const chunk of recoverChunks(text, node.startIndex, node.endIndex)) {
        const piece = parsePython(text.slice(chunk.start, chunk.end));
        const src: Source = { ...top, base: chunk.start, root: piece.root };
        for (const err of findSyntaxErrors(piece.root)) {
          x.diagnostics.push(diagnosticAt(file, lines, chunk.start + err.start, chunk.start + err.end, 'error', 'syntax-error', err.message));
        }
        for (const child of piece.root.children) {
          if (!child.hasError && child.type !== 'ERROR' && !child.isMissing) x.walkStatement(child, src, false);
        }
      }
    }
    if (!x.diagnostics.some((d) => d.code === 'syntax-error')) {
      // Recovery found nothing wrong piecewise; report what the whole-file parse saw.
      for (const err of findSyntaxErrors(parsed.root).slice(0, 1)) {
        x.diagnostics.push(diagnosticAt(file, lines, err.start, err.end, 'error', 'syntax-error', err.message));
      }
    }
  }
  x.finishClassTasks();
  return {
    file,
    module,
    tasks: x.tasks,
    classes: x.classes,
    aliases: x.aliases,
    classDefs: x.classDefs,
    imports: x.imports,
    constants: x.constants,
    importedModules: x.importedModules,
    starImports: x.starImports,
    appStatements: x.appStatements,
    diagnostics: x.diagnostics,
  };
}
