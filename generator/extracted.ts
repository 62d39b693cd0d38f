/**
 * What extract.ts hands to typemap.ts: the Python-level facts of one module, with
 * annotations parsed into {@link PyType} trees but not yet mapped to TypeScript.
 * Plain data, like the manifest, so typemap can be tested without a parser.
 */
import type { Diagnostic } from './diagnostics.js';
import type { DefaultValue, JsonValue, Location, ParamKind } from './model.js';

/** Where a piece of annotation sits in its file (1-based, character columns). */
export interface Span {
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/**
 * A Python annotation as written. `name` covers `int`, `typing.List`, `models.Point`;
 * `generic` covers any subscript (`list[int]`, `typing.Optional[str]`); string forward
 * references are parsed again and appear as what they contain.
 */
export type PyType = (
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'generic'; readonly name: string; readonly args: readonly PyType[] }
  | { readonly kind: 'union'; readonly members: readonly PyType[] }
  | { readonly kind: 'value'; readonly value: string | number | boolean | null }
  | { readonly kind: 'ellipsis' }
  | { readonly kind: 'list'; readonly items: readonly PyType[] }
  | { readonly kind: 'other' }
  /** Nested deeper than {@link MAX_TYPE_NESTING}: no real annotation is, and TypeScript could not check it. */
  | { readonly kind: 'too-deep' }
) & { readonly text: string; readonly span: Span };

/**
 * How deeply annotations and literal values may nest before they become unknown (types)
 * or non-literal (values). Real annotations stay under ten levels; tsc reports
 * "excessive stack depth" on generated types nested about fifty deep, and a fixed limit
 * keeps the outcome independent of how much stack the JavaScript engine has left.
 */
export const MAX_TYPE_NESTING = 32;

/**
 * A Python expression as far as constant evaluation (evaluate.ts) reads it: literals,
 * dotted names, f-strings, `+`, containers and calls (`re.compile('...')`). Anything else
 * is `other`, kept with its text so a diagnostic can name it.
 */
export type ConstExpr = (
  | { readonly kind: 'literal'; readonly value: JsonValue }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'fstring'; readonly parts: readonly (string | ConstExpr)[] }
  | { readonly kind: 'add'; readonly left: ConstExpr; readonly right: ConstExpr }
  | { readonly kind: 'list'; readonly items: readonly ConstExpr[] }
  | { readonly kind: 'dict'; readonly entries: readonly (readonly [ConstExpr, ConstExpr])[] }
  | { readonly kind: 'call'; readonly callee: string; readonly args: readonly ConstExpr[]; readonly keywords: { readonly [name: string]: ConstExpr } }
  | { readonly kind: 'other' }
) & { readonly text: string; readonly span: Span };

/** A statement that configures a Celery app (app-config.ts reads these). */
export type AppStatement =
  /** `app = Celery(...)`; `namespace` is its `namespace=` (the settings' key prefix). */
  | { readonly kind: 'app'; readonly variable: string; readonly span: Span; readonly namespace: ConstExpr | null }
  /** `app.conf.<key> = value`, or a key of `app.conf.update(...)`. */
  | { readonly kind: 'conf'; readonly variable: string; readonly key: string; readonly value: ConstExpr }
  /** `app.config_from_object('proj.celeryconfig', namespace='CELERY')`. */
  | { readonly kind: 'config-from-object'; readonly variable: string; readonly value: ConstExpr; readonly namespace: ConstExpr | null }
  /**
   * `os.environ.setdefault('KEY', value)` or `os.environ['KEY'] = value` at import time:
   * DJANGO_SETTINGS_MODULE names the module behind `config_from_object('django.conf:settings')`.
   */
  | { readonly kind: 'environ'; readonly key: string; readonly value: ConstExpr };

export interface ExtractedParam {
  readonly name: string;
  readonly kind: ParamKind;
  readonly annotation: PyType | null;
  readonly default: DefaultValue | null;
  readonly location: Location;
}

export interface ExtractedTask {
  readonly name: string;
  readonly function: string;
  readonly module: string;
  readonly kind: 'function' | 'class';
  readonly async: boolean;
  readonly bind: boolean;
  readonly params: readonly ExtractedParam[];
  readonly returns: PyType | null;
  readonly options: { readonly [key: string]: JsonValue };
  readonly nonLiteralOptions: readonly string[];
  /** The expressions of the non-literal options, for evaluate.ts to resolve across modules. */
  readonly optionExprs: { readonly [key: string]: ConstExpr };
  readonly doc: string | null;
  readonly location: Location;
  /** Exceptions the task names as raised, in source order (resolved in exceptions.ts). */
  readonly raises: readonly ExtractedRaise[];
}

export interface ExtractedField {
  readonly name: string;
  /** With `Required[]`/`NotRequired[]`/`ClassVar[]`-style wrappers already removed. */
  readonly annotation: PyType | null;
  /** False for a default, a default factory, `NotRequired[...]` or a `total=False` TypedDict. */
  readonly required: boolean;
  /** `= None`: the field's type gains `null` (implicit Optional). */
  readonly defaultIsNone: boolean;
  readonly doc: string | null;
}

export type EnumFlavor = 'plain' | 'str' | 'int';

export interface ExtractedClass {
  readonly kind: 'typeddict' | 'dataclass' | 'pydantic' | 'enum' | 'namedtuple';
  readonly name: string;
  readonly module: string;
  readonly file: string;
  readonly fields: readonly ExtractedField[];
  /** Enum members with literal values; `null` value when it could not be evaluated. */
  readonly members: readonly { readonly name: string; readonly value: string | number | boolean | null; readonly literal: boolean }[];
  readonly enumFlavor: EnumFlavor;
  /** Names of base classes that are themselves classes of this kind (fields are inherited). */
  readonly bases: readonly string[];
  readonly doc: string | null;
  readonly location: Location;
}

export interface ExtractedAlias {
  readonly name: string;
  readonly type: PyType;
}

export interface ExtractedModule {
  readonly file: string;
  readonly module: string;
  readonly tasks: readonly ExtractedTask[];
  readonly classes: readonly ExtractedClass[];
  readonly aliases: readonly ExtractedAlias[];
  /** Every top-level class (exception classes are among them). */
  readonly classDefs: readonly ExtractedClassDef[];
  /** Local name → what it was imported as (`L` → `typing.List`, `t` → `typing`). */
  readonly imports: { readonly [local: string]: string };
  /** Module constants (`QUEUE = 'x'`) and class attributes (`Queues.REPORTS`), by dotted name. */
  readonly constants: { readonly [name: string]: ConstExpr };
  /** Absolute names of the modules its import statements name (project.ts follows them). */
  readonly importedModules: readonly string[];
  /** Modules of `from x import *`, whose public names (their `__all__`, if any) this module re-exports. */
  readonly starImports: readonly string[];
  readonly appStatements: readonly AppStatement[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Where an exception a task may raise is named: its body, its docstring or its options. */
export type RaiseOrigin = 'raise' | 'docstring' | 'autoretry_for' | 'throws';

/** One exception class a task names as raised, before resolution. */
export interface ExtractedRaise {
  /** The name as written, without whitespace: `CardDeclined`, `errors.CardDeclined`. */
  readonly name: string;
  readonly origin: RaiseOrigin;
  /** The docstring's text for it, `null` when there is none. */
  readonly description: string | null;
  readonly location: Location;
}

/** Any top-level class of a module, as a candidate exception class (bases as written). */
export interface ExtractedClassDef {
  readonly name: string;
  readonly module: string;
  readonly bases: readonly string[];
  readonly doc: string | null;
  readonly location: Location;
}
