/**
 * The contract between generated modules and the runtime.
 *
 * A generated `tasks.ts` describes each Python task as a {@link TaskSpec}: plain data
 * (name, parameters, decorator options, wire types) plus phantom type parameters that
 * carry the TypeScript signature. The runtime needs the data to publish calls, map
 * keyword arguments onto positions and check arguments a peer sent; the compiler needs
 * the phantom types to type `delay()` and the handlers. Nothing here does I/O.
 */

/** A JSON value as it travels in a Celery message body. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** How a Python parameter binds, as `inspect.Parameter.kind` names it. */
export type ParamKind =
  | 'positional_only'
  | 'positional_or_keyword'
  | 'keyword_only'
  | 'var_positional'
  | 'var_keyword';

/**
 * The shape a value must have on the wire, as far as the generator could tell from the
 * Python annotation. The worker checks incoming arguments against it before it calls a
 * handler, and answers a mismatch with a Python-readable `TypeError` FAILURE.
 * `unknown` accepts anything (Python's `Any`, a missing or unresolvable annotation).
 */
export type WireType =
  | { readonly type: 'unknown' }
  | { readonly type: 'null' }
  | { readonly type: 'boolean' }
  | { readonly type: 'number'; readonly integer?: boolean }
  | { readonly type: 'string' }
  | { readonly type: 'bytes' }
  | { readonly type: 'literal'; readonly value: string | number | boolean | null }
  | { readonly type: 'array'; readonly items: WireType }
  | { readonly type: 'tuple'; readonly items: readonly WireType[] }
  | { readonly type: 'record'; readonly values: WireType }
  | {
      readonly type: 'object';
      readonly fields: readonly { readonly name: string; readonly value: WireType; readonly required: boolean }[];
    }
  | { readonly type: 'union'; readonly members: readonly WireType[] };

/** One Python parameter of a task, in Python's declaration order. */
export interface ParamSpec {
  readonly name: string;
  readonly kind: ParamKind;
  /** False when the parameter has a default (or is `*args` / `**kwargs`). */
  readonly required: boolean;
  /** The Python default as a JSON value, when it is a literal; the worker fills it in. */
  readonly default?: JsonValue;
  /** What a value must look like; for `*args`/`**kwargs` the element type. */
  readonly type: WireType;
}

/**
 * Decorator options the runtime honours, in Celery's own spelling. Values the
 * generator could not evaluate (not literals) are left out of the generated spec.
 */
export interface TaskOptions {
  readonly queue?: string;
  readonly exchange?: string;
  readonly routing_key?: string;
  readonly priority?: number;
  readonly serializer?: string;
  readonly max_retries?: number | null;
  readonly default_retry_delay?: number;
  readonly acks_late?: boolean;
  readonly ignore_result?: boolean;
  readonly rate_limit?: string | number | null;
  readonly time_limit?: number | null;
  readonly soft_time_limit?: number | null;
  readonly expires?: number | null;
  readonly [option: string]: JsonValue | undefined;
}

/** A route's options (`queue`, `exchange`, `routing_key`, `priority`, ...), as runtime/client/routes.ts returns them. */
export interface TaskRouteOptions {
  readonly queue?: string;
  readonly exchange?: string;
  readonly routing_key?: string;
  readonly priority?: number;
  readonly [option: string]: JsonValue | undefined;
}

/**
 * A task as the generator described it. `Args` is the positional tuple of `delay()`
 * (labelled, optional elements for parameters with defaults), `Kwargs` the object of
 * parameters that may be passed by name, `Result` the decoded return value.
 */
export interface TaskSpec<Args extends unknown[] = unknown[], Kwargs extends object = object, Result = unknown> {
  /** The name Celery registered the task under, e.g. `proj.tasks.add`. */
  readonly name: string;
  /** True for `bind=True`: the handler receives a {@link TaskContext} first. */
  readonly bind: boolean;
  readonly params: readonly ParamSpec[];
  readonly options: TaskOptions;
  /**
   * The first `task_routes` entry of the Python app that matches this task's name, as the
   * generator read it; ranked after `options` (the decorator's) and before the app's `taskRoutes`.
   */
  readonly route?: TaskRouteOptions;
  /** The Python app's `task_default_queue`, when the generator found one; before the app's `defaultQueue`. */
  readonly defaultQueue?: string;
  /** Type-only: never set at run time. */
  readonly __types?: { readonly args: Args; readonly kwargs: Kwargs; readonly result: Result };
}

/**
 * Declares a task spec with its TypeScript signature. The value is returned unchanged;
 * the type parameters are what generated code adds.
 */
export function defineTask<Args extends unknown[], Kwargs extends object, Result>(
  spec: TaskSpec<Args, Kwargs, Result>,
): TaskSpec<Args, Kwargs, Result> {
  return spec;
}

export type ArgsOf<S> = S extends TaskSpec<infer A, object, unknown> ? A : never;
export type KwargsOf<S> = S extends TaskSpec<unknown[], infer K, unknown> ? K : never;
export type ResultOf<S> = S extends TaskSpec<unknown[], object, infer R> ? R : never;

/** A handler may answer synchronously or with a promise. */
export type Awaitable<T> = T | PromiseLike<T>;
