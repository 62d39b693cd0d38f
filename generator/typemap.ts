/**
 * Python annotation → TypeScript type text and wire type, as a JSON message carries the
 * value. Table-driven: {@link KNOWN_TYPES} has one entry per Python type form. Pure: it
 * reads extracted modules and returns diagnostics, never throws for odd input.
 * Anything it cannot map becomes `unknown` plus a warning at the annotation; never `any`.
 */
import { type Diagnostic, type DiagnosticCode, excerpt } from './diagnostics.js';
import { MAX_TYPE_NESTING } from './extracted.js';
import type { ExtractedClass, ExtractedModule, PyType, Span } from './extracted.js';
import type { NamedType, TypeField, WireType } from './model.js';
import { quote } from './names.js';
import { Scope } from './scope.js';

/** A mapped type: TypeScript text plus whether it needs parentheses inside `T[]`. */
export interface Mapped {
  readonly ts: string;
  readonly wire: WireType;
  /** Present when this is a union (so it prints as `(A | B)[]` inside an array). */
  readonly members?: readonly Mapped[];
}

export const UNKNOWN: Mapped = { ts: 'unknown', wire: { type: 'unknown' } };
const NULL: Mapped = { ts: 'null', wire: { type: 'null' } };

/** Where an annotation sits: decides which warnings apply. */
export interface MapContext {
  readonly file: string;
  readonly module: string;
  readonly position: 'param' | 'return' | 'field';
  /** The task's `serializer=` option, when known: bytes travel over msgpack. */
  readonly serializer?: string;
  /** With `pydantic=True`: the return annotation, which Celery dumps when it is a pydantic model class. */
  readonly pydanticReturn?: PyType;
}

type Mapper = (t: PyType, args: readonly PyType[], m: TypeMapper, ctx: MapContext) => Mapped;

const scalar =
  (ts: string, wire: WireType): Mapper =>
  () => ({ ts, wire });

const ISO_STRING = scalar('string', { type: 'string' });

const arrayOf: Mapper = (_t, args, m, ctx) => array(args[0] ? m.map(args[0], ctx) : UNKNOWN);

const setOf: Mapper = (t, args, m, ctx) => {
  if (ctx.position === 'return') {
    m.warn(ctx, t.span, 'return-not-json', `return type '${excerpt(t.text)}' is a set, which Celery's JSON serializer cannot encode`);
  }
  return arrayOf(t, args, m, ctx);
};

const recordOf: Mapper = (_t, args, m, ctx) => {
  // JSON object keys are always strings (Python's json turns int keys into strings).
  const value = args[1] ? m.map(args[1], ctx) : UNKNOWN;
  return { ts: `Record<string, ${value.ts}>`, wire: { type: 'record', values: value.wire } };
};

const tupleOf: Mapper = (t, args, m, ctx) => {
  if (args.length === 0 && t.kind !== 'generic') return array(UNKNOWN);
  if (args.length === 2 && args[1]!.kind === 'ellipsis') return array(m.map(args[0]!, ctx));
  // `tuple[()]` is the empty tuple.
  const items = args.length === 1 && args[0]!.kind === 'list' && args[0]!.items.length === 0 ? [] : args.map((a) => m.map(a, ctx));
  return {
    ts: `[${items.map((i) => i.ts).join(', ')}]`,
    wire: { type: 'tuple', items: items.map((i) => i.wire) },
  };
};

const optionalOf: Mapper = (_t, args, m, ctx) => (args[0] ? union([m.map(args[0], ctx), NULL]) : UNKNOWN);

const unionOf: Mapper = (_t, args, m, ctx) => union(args.map((a) => m.map(a, ctx)));

const firstArg: Mapper = (_t, args, m, ctx) => (args[0] ? m.map(args[0], ctx) : UNKNOWN);

const literalOf: Mapper = (t, args, m, ctx) => {
  const members: Mapped[] = [];
  for (const a of args) {
    if (a.kind === 'value') members.push(literal(a.value));
    else if (a.kind === 'none') members.push(NULL);
    else if (a.kind === 'generic' && lastSegment(a.name) === 'Literal') members.push(literalOf(a, a.args, m, ctx));
    else {
      m.warn(ctx, a.span, 'unknown-type', `Literal value '${excerpt(a.text)}' is not a string, number, bool or None; it becomes unknown`);
      return UNKNOWN;
    }
  }
  if (members.length === 0) {
    m.warn(ctx, t.span, 'unknown-type', `'${excerpt(t.text)}' has no values; it becomes unknown`);
    return UNKNOWN;
  }
  return union(members);
};

const anyType: Mapper = (t, _args, m, ctx) => {
  m.warn(ctx, t.span, 'unknown-type', `type '${excerpt(t.text)}' maps to unknown`);
  return UNKNOWN;
};

const bytesType: Mapper = (t, _args, m, ctx) => {
  if (ctx.serializer !== 'msgpack') {
    m.warn(
      ctx,
      t.span,
      'bytes-over-json',
      `'${excerpt(t.text)}' cannot travel over JSON to a Celery 5.2 peer (kombu 5.3+ sends a base64 envelope; msgpack carries bytes natively)`,
    );
  }
  return { ts: 'Uint8Array', wire: { type: 'bytes' } };
};

/**
 * One entry per Python type form, keyed by the name's last segment, so `List`,
 * `typing.List` and `t.List` (after `import typing as t`) all land on the same row.
 */
export const KNOWN_TYPES: ReadonlyMap<string, Mapper> = new Map<string, Mapper>([
  ['int', scalar('number', { type: 'number', integer: true })],
  ['float', scalar('number', { type: 'number' })],
  ['str', scalar('string', { type: 'string' })],
  ['bool', scalar('boolean', { type: 'boolean' })],
  ['None', () => NULL],
  ['NoneType', () => NULL],
  ['bytes', bytesType],
  ['bytearray', bytesType],
  ['datetime', ISO_STRING],
  ['date', ISO_STRING],
  ['time', ISO_STRING],
  ['UUID', ISO_STRING],
  ['Decimal', ISO_STRING],
  ['Any', anyType],
  ['object', anyType],
  ['list', arrayOf],
  ['List', arrayOf],
  ['Sequence', arrayOf],
  ['MutableSequence', arrayOf],
  ['Iterable', arrayOf],
  ['Collection', arrayOf],
  ['deque', arrayOf],
  ['Deque', arrayOf],
  ['set', setOf],
  ['Set', setOf],
  ['frozenset', setOf],
  ['FrozenSet', setOf],
  ['AbstractSet', setOf],
  ['MutableSet', setOf],
  ['tuple', tupleOf],
  ['Tuple', tupleOf],
  ['dict', recordOf],
  ['Dict', recordOf],
  ['Mapping', recordOf],
  ['MutableMapping', recordOf],
  ['DefaultDict', recordOf],
  ['defaultdict', recordOf],
  ['OrderedDict', recordOf],
  ['Optional', optionalOf],
  ['Union', unionOf],
  ['Literal', literalOf],
  ['Annotated', firstArg],
  ['Required', firstArg],
  ['NotRequired', firstArg],
  ['ReadOnly', firstArg],
  ['Final', firstArg],
]);

function array(item: Mapped): Mapped {
  return { ts: item.members ? `(${item.ts})[]` : `${item.ts}[]`, wire: { type: 'array', items: item.wire } };
}

export function literal(value: string | number | boolean | null): Mapped {
  if (value === null) return NULL;
  const ts = typeof value === 'string' ? quote(value) : String(value);
  return { ts, wire: { type: 'literal', value } };
}

/** Flattens, drops duplicates (by TypeScript text), and collapses to unknown if any member is. */
export function union(members: readonly Mapped[]): Mapped {
  const flat: Mapped[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    if (m.ts === 'unknown') return UNKNOWN;
    for (const p of m.members ?? [m]) {
      if (seen.has(p.ts)) continue;
      seen.add(p.ts);
      flat.push(p);
    }
  }
  if (flat.length === 1) return flat[0]!;
  return { ts: flat.map((f) => f.ts).join(' | '), wire: { type: 'union', members: flat.map((f) => f.wire) }, members: flat };
}

function lastSegment(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(dot + 1);
}

/** Names that are standard-library or typing modules, so `typing.List` never means a user class. */
const STDLIB_PREFIXES = new Set(['typing', 'typing_extensions', 'collections', 'collections.abc', 'datetime', 'uuid', 'decimal', 'builtins', 'enum']);

/**
 * Maps annotations of a set of modules, collecting warnings and the named types
 * (TypedDict, dataclass, ...) that the mapped annotations use.
 */
export class TypeMapper {
  readonly diagnostics: Diagnostic[] = [];
  readonly #modules: ReadonlyMap<string, ExtractedModule>;
  readonly #classes: readonly ExtractedClass[];
  /** Classes referenced so far, keyed by TypeScript name, in first-use order. */
  readonly #used = new Map<string, ExtractedClass>();
  readonly #wires = new Map<ExtractedClass, WireType | 'pending'>();
  readonly #aliasDepth = new Set<string>();
  readonly #warned = new Set<string>();

  readonly #scope: Scope;

  constructor(modules: readonly ExtractedModule[]) {
    this.#modules = new Map(modules.map((m) => [m.module, m]));
    this.#scope = new Scope(modules);
    this.#classes = modules.flatMap((m) => m.classes);
  }

  warn(ctx: MapContext, span: Span, code: DiagnosticCode, message: string, severity: 'warning' | 'error' = 'warning'): void {
    const key = `${ctx.file}:${span.line}:${span.column}:${code}:${message}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.diagnostics.push({ file: ctx.file, ...span, severity, code, message });
  }

  /**
   * Annotations already mapped without a warning, by module, position, serializer and
   * text: modules repeat the same few annotations (`int`, `list[Item]`) on every task,
   * and the same text in the same module always maps the same way. Mappings that warned
   * are not kept, so every occurrence gets its own positioned warning.
   */
  readonly #quiet = new Map<string, Mapped>();

  /** Maps one annotation; `null` (no annotation) is unknown, warned about by the caller. */
  map(t: PyType, ctx: MapContext): Mapped {
    const key = `${ctx.module}\0${ctx.position}\0${ctx.serializer ?? ''}\0${ctx.pydanticReturn === t ? 'p' : ''}\0${t.text}`;
    const known = this.#quiet.get(key);
    if (known) return known;
    const warnings = this.diagnostics.length;
    const mapped = this.#map(t, ctx);
    if (this.diagnostics.length === warnings) this.#quiet.set(key, mapped);
    return mapped;
  }

  #map(t: PyType, ctx: MapContext): Mapped {
    switch (t.kind) {
      case 'none':
        return NULL;
      case 'value':
        // A bare string that did not parse as a type, or a number where a type belongs.
        this.warn(ctx, t.span, 'unknown-type', `'${excerpt(t.text)}' is not a type; it becomes unknown`);
        return UNKNOWN;
      case 'union':
        return union(t.members.map((x) => this.map(x, ctx)));
      case 'name':
        return this.#mapName(t, t.name, [], ctx);
      case 'generic':
        return this.#mapName(t, t.name, t.args, ctx);
      case 'too-deep':
        this.warn(ctx, t.span, 'unknown-type', `type is nested more than ${MAX_TYPE_NESTING} levels deep; it becomes unknown`);
        return UNKNOWN;
      case 'ellipsis':
      case 'list':
      case 'other':
        this.warn(ctx, t.span, 'unknown-type', `type '${excerpt(t.text)}' is not supported; it becomes unknown`);
        return UNKNOWN;
    }
  }

  #mapName(t: PyType, written: string, args: readonly PyType[], ctx: MapContext): Mapped {
    const module = this.#modules.get(ctx.module);
    const name = canonical(written, module?.imports ?? {});
    const prefix = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
    const last = lastSegment(name);
    const userSpace = !STDLIB_PREFIXES.has(prefix);

    if (userSpace && !written.includes('.') && module) {
      const alias = module.aliases.find((a) => a.name === written);
      if (alias && !this.#aliasDepth.has(`${ctx.module}.${written}`)) {
        this.#aliasDepth.add(`${ctx.module}.${written}`);
        try {
          return this.map(alias.type, ctx);
        } finally {
          this.#aliasDepth.delete(`${ctx.module}.${written}`);
        }
      }
    }
    if (userSpace && module) {
      // Names imported from (or re-exported by) other modules read: `from .schemas import Item`.
      const bound = this.#scope.resolve(ctx.module, written);
      if (bound?.kind === 'class') return this.#mapClass(t, bound.cls, ctx);
      if (bound?.kind === 'alias') {
        const key = `${bound.module.module}.${bound.alias.name}`;
        if (!this.#aliasDepth.has(key)) {
          this.#aliasDepth.add(key);
          try {
            return this.map(bound.alias.type, { ...ctx, file: bound.module.file, module: bound.module.module });
          } finally {
            this.#aliasDepth.delete(key);
          }
        }
      }
    }
    if (userSpace) {
      const cls = this.#findClass(last, ctx.module);
      if (cls) return this.#mapClass(t, cls, ctx);
    }
    const known = KNOWN_TYPES.get(last);
    if (known) return known(t, args, this, ctx);
    this.warn(ctx, t.span, 'unknown-type', `cannot resolve type '${excerpt(t.text)}'; it becomes unknown`);
    return UNKNOWN;
  }

  #findClass(name: string, module: string): ExtractedClass | undefined {
    return this.#classes.find((c) => c.name === name && c.module === module) ?? this.#classes.find((c) => c.name === name);
  }

  #mapClass(t: PyType, cls: ExtractedClass, ctx: MapContext): Mapped {
    const other = this.#used.get(cls.name);
    if (other && other !== cls) {
      this.warn(
        ctx,
        t.span,
        'name-collision',
        `type '${cls.name}' from ${cls.file}:${cls.location.line}:${cls.location.column} collides with '${other.name}' from ${other.file}:${other.location.line}:${other.location.column}`,
        'error',
      );
      return UNKNOWN;
    }
    if (!other) this.#used.set(cls.name, cls);
    if (ctx.position === 'return') {
      const carries =
        cls.kind === 'typeddict' ||
        cls.kind === 'namedtuple' ||
        (cls.kind === 'enum' && cls.enumFlavor !== 'plain') ||
        (cls.kind === 'pydantic' && ctx.pydanticReturn === t);
      if (!carries) {
        const what = cls.kind === 'enum' ? 'an Enum member' : `a ${cls.kind === 'pydantic' ? 'pydantic model' : 'dataclass'} instance`;
        this.warn(ctx, t.span, 'return-not-json', `return type '${excerpt(t.text)}' is ${what}, which Celery's JSON serializer cannot encode`);
      }
    }
    return { ts: cls.name, wire: this.#classWire(cls) };
  }

  #classWire(cls: ExtractedClass): WireType {
    const known = this.#wires.get(cls);
    // A recursive reference cannot be spelled out as plain data; it accepts anything.
    if (known === 'pending') return { type: 'unknown' };
    if (known) return known;
    this.#wires.set(cls, 'pending');
    const wire = this.#describe(cls).wire;
    this.#wires.set(cls, wire);
    return wire;
  }

  /** The named types used so far, fully mapped, in the order of their classes in the source. */
  namedTypes(): NamedType[] {
    const out: NamedType[] = [];
    // Mapping a type's fields can pull in further types; repeat until none are new.
    const done = new Set<ExtractedClass>();
    for (;;) {
      const pending = [...this.#used.values()].filter((c) => !done.has(c));
      if (pending.length === 0) break;
      for (const cls of pending) {
        done.add(cls);
        out.push(this.#describe(cls).named);
      }
    }
    const order = new Map(this.#classes.map((c, i) => [`${c.module}.${c.name}`, i] as const));
    return out.sort((a, b) => order.get(`${a.module}.${a.name}`)! - order.get(`${b.module}.${b.name}`)!);
  }

  readonly #described = new Map<ExtractedClass, { named: NamedType; wire: WireType }>();

  #describe(cls: ExtractedClass): { named: NamedType; wire: WireType } {
    const cached = this.#described.get(cls);
    if (cached) return cached;
    const ctx: MapContext = { file: cls.file, module: cls.module, position: 'field' };
    const base = { name: cls.name, module: cls.module, doc: cls.doc, location: cls.location };
    let result: { named: NamedType; wire: WireType };
    if (cls.kind === 'enum') {
      const members = cls.members.map((m) => ({ name: m.name, value: m.value }));
      for (const m of cls.members) {
        if (!m.literal) {
          this.warn(ctx, spanOf(cls), 'unknown-type', `value of ${cls.name}.${m.name} is not a literal; the enum becomes unknown`);
        }
      }
      const wire: WireType = cls.members.some((m) => !m.literal)
        ? { type: 'unknown' }
        : union(members.map((m) => literal(m.value))).wire;
      result = { named: { kind: 'enum', ...base, members }, wire };
    } else {
      const fields = this.#fields(cls, ctx);
      if (cls.kind === 'namedtuple') {
        result = {
          named: { kind: 'namedtuple', ...base, fields },
          wire: { type: 'tuple', items: fields.map((f) => f.wireType) },
        };
      } else {
        result = {
          named: { kind: cls.kind, ...base, fields },
          wire: { type: 'object', fields: fields.map((f) => ({ name: f.name, value: f.wireType, required: f.required })) },
        };
      }
    }
    this.#described.set(cls, result);
    return result;
  }

  #fields(cls: ExtractedClass, ctx: MapContext, seen = new Set<ExtractedClass>()): TypeField[] {
    seen.add(cls);
    const inherited: TypeField[] = [];
    for (const baseName of cls.bases) {
      const base = this.#findClass(baseName, cls.module);
      if (base && base.kind === cls.kind && !seen.has(base)) inherited.push(...this.#fields(base, { ...ctx, file: base.file, module: base.module }, seen));
    }
    const own = cls.fields.map((f): TypeField => {
      let mapped: Mapped;
      if (f.annotation) mapped = this.map(f.annotation, ctx);
      else mapped = UNKNOWN;
      if (f.defaultIsNone) mapped = union([mapped, NULL]);
      return { name: f.name, annotation: f.annotation?.text ?? null, tsType: mapped.ts, wireType: mapped.wire, required: f.required, doc: f.doc };
    });
    // A subclass redeclaring a field replaces it in place, as Python's class dict does.
    const byName = new Map<string, TypeField>();
    for (const f of [...inherited, ...own]) byName.set(f.name, f);
    return [...byName.values()];
  }
}

function spanOf(cls: ExtractedClass): Span {
  return { line: cls.location.line, column: cls.location.column, endLine: cls.location.line, endColumn: cls.location.column };
}

/** Applies the module's imports to a dotted name: `t.List` → `typing.List`, `L` → `typing.List`. */
function canonical(name: string, imports: { readonly [local: string]: string }): string {
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const target = Object.hasOwn(imports, head) ? imports[head] : undefined;
  return target === undefined ? name : target + (dot < 0 ? '' : name.slice(dot));
}
