/**
 * The manifest: plain data describing the tasks found in Python modules, exactly what
 * `celery-gen inspect --json` prints and what `emit()` consumes. No classes, no
 * `undefined`: absent values are `null`, so `JSON.parse(JSON.stringify(m))` deep-equals `m`.
 * Bump {@link MODEL_VERSION} on any change a consumer of the JSON could notice.
 */
import type { JsonValue, ParamKind, WireType } from '../runtime/protocol/spec.js';
import type { Diagnostic } from './diagnostics.js';

export type { JsonValue, ParamKind, WireType };

export const MODEL_VERSION = 2;

/** A 1-based position in an input file; columns count characters (code points), not bytes. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One input file and the Python module name it was read as. */
export interface ModuleInfo {
  readonly file: string;
  readonly module: string;
}

/**
 * A Python default value. `literal: true` when it is a JSON-representable literal
 * (`value` is what the worker fills in); otherwise only its source text is known.
 */
export type DefaultValue =
  | { readonly literal: true; readonly source: string; readonly value: JsonValue }
  | { readonly literal: false; readonly source: string };

export interface Param {
  readonly name: string;
  readonly kind: ParamKind;
  /** The annotation's Python source text, `null` when there is none. */
  readonly annotation: string | null;
  /** The TypeScript type of one value (for `*args`/`**kwargs`: of one element). */
  readonly tsType: string;
  readonly wireType: WireType;
  readonly required: boolean;
  readonly default: DefaultValue | null;
  readonly location: Location;
}

export interface Returns {
  readonly annotation: string | null;
  readonly tsType: string;
  readonly wireType: WireType;
}

export interface Task {
  /**
   * The name Celery registers, e.g. `proj.tasks.add`; `null` when `name=` could not be
   * resolved (an error in the diagnostics; nothing is generated from such a manifest).
   */
  readonly name: string | null;
  /** The Python function (or, for class-based tasks, class) name. */
  readonly function: string;
  readonly module: string;
  /** How the task is declared: a decorated function or a `Task` subclass with `run()`. */
  readonly kind: 'function' | 'class';
  readonly async: boolean;
  /** True when the handler receives a task context first (Python's `self`). */
  readonly bind: boolean;
  readonly params: readonly Param[];
  readonly returns: Returns;
  /**
   * Every decorator keyword (or class attribute) in source order: JSON literal values as
   * themselves, anything else as its Python source text (listed in `nonLiteralOptions`).
   */
  readonly options: { readonly [key: string]: JsonValue };
  readonly nonLiteralOptions: readonly string[];
  /**
   * The first `task_routes` entry of the Python app that matches the task's name (Celery's
   * rules), as options; `null` when no route matches or no app was found. The decorator's
   * `options` win over it key by key, as in Celery.
   */
  readonly route: { readonly [key: string]: JsonValue } | null;
  /** The docstring, dedented as `inspect.cleandoc` does; `null` when there is none. */
  readonly doc: string | null;
  readonly location: Location;
  /** The exceptions the task names as raised (body, docstring, autoretry_for/throws), one entry per class. */
  readonly throws: readonly Throws[];
}

/** One exception class a task may raise. */
export interface Throws {
  /**
   * The class's Python identity, `module.qualname` (`proj.errors.CardDeclined`,
   * `builtins.KeyError`); `null` when the name could not be resolved (a warning says so).
   */
  readonly exception: string | null;
  /** The name as the task's source wrote it. */
  readonly name: string;
  /** From the docstring's Raises section; `null` when it has none for this class. */
  readonly description: string | null;
}

/**
 * A Python exception class a task raises (or a base of one), emitted as an exported
 * TypeScript class of the same name that extends the runtime's TaskError.
 */
export interface ExceptionClass {
  readonly name: string;
  /** The module that defines it (not the one that imports it): its `exc_module` on the wire. */
  readonly module: string;
  /** Its qualified name in that module: its `exc_type` on the wire. */
  readonly qualname: string;
  /**
   * Its bases as Python identities (`proj.errors.BillingError`, `builtins.ValueError`), or
   * as written when they could not be resolved. The TypeScript class extends the first
   * that is an exception class; with none, the runtime's `builtins.BaseException`.
   */
  readonly bases: readonly string[];
  readonly doc: string | null;
  readonly location: Location;
}

export interface TypeField {
  readonly name: string;
  readonly annotation: string | null;
  readonly tsType: string;
  readonly wireType: WireType;
  readonly required: boolean;
  readonly doc: string | null;
}

export interface EnumMember {
  readonly name: string;
  readonly value: string | number | boolean | null;
}

/**
 * A class from an input module that a task signature refers to, emitted as an exported
 * TypeScript type of the same name.
 */
export type NamedType =
  | {
      readonly kind: 'typeddict' | 'dataclass' | 'pydantic';
      readonly name: string;
      readonly module: string;
      readonly fields: readonly TypeField[];
      readonly doc: string | null;
      readonly location: Location;
    }
  | {
      readonly kind: 'namedtuple';
      readonly name: string;
      readonly module: string;
      readonly fields: readonly TypeField[];
      readonly doc: string | null;
      readonly location: Location;
    }
  | {
      readonly kind: 'enum';
      readonly name: string;
      readonly module: string;
      readonly members: readonly EnumMember[];
      readonly doc: string | null;
      readonly location: Location;
    };

export interface Manifest {
  readonly version: typeof MODEL_VERSION;
  readonly modules: readonly ModuleInfo[];
  readonly tasks: readonly Task[];
  readonly types: readonly NamedType[];
  /** The Python app's `task_default_queue`, when the generator found it; `null` otherwise. */
  readonly defaultQueue: string | null;
  /** Exception classes tasks raise and their bases, bases before subclasses. */
  readonly exceptions: readonly ExceptionClass[];
  readonly diagnostics: readonly Diagnostic[];
}
