/**
 * The typemap stage over whole modules: turns extracted tasks (Python annotations) into
 * manifest tasks (TypeScript types and wire types), and collects the named types they use.
 */
import type { Diagnostic } from './diagnostics.js';
import type { EvaluatedTask } from './evaluate.js';
import type { ExtractedModule, ExtractedParam } from './extracted.js';
import type { ExceptionClass, JsonValue, NamedType, Param, Returns, Task, Throws } from './model.js';
import { resolveExceptions } from './exceptions.js';
import { Scope } from './scope.js';
import { type MapContext, type Mapped, TypeMapper, UNKNOWN, union } from './typemap.js';

export interface Resolved {
  readonly tasks: Task[];
  readonly types: NamedType[];
  readonly exceptions: ExceptionClass[];
  readonly diagnostics: Diagnostic[];
}

const NULL: Mapped = { ts: 'null', wire: { type: 'null' } };

/**
 * Maps the tasks of `modules` (the inputs); `others` (modules read because they are
 * imported) contribute only the classes and aliases annotations may name.
 */
export function resolveModules(
  modules: readonly ExtractedModule[],
  others: readonly ExtractedModule[] = [],
  route: (name: string) => { readonly [key: string]: JsonValue } | null = () => null,
  scope?: Scope,
): Resolved {
  const mapper = new TypeMapper([...modules, ...others]);
  const failures = resolveExceptions(modules, scope ?? new Scope([...modules, ...others]), others);
  const tasks: Task[] = [];
  for (const m of modules) {
    for (const t of m.tasks) tasks.push(resolveTask(t as EvaluatedTask, m, mapper, route, failures.throws.get(t) ?? []));
  }
  return { tasks, types: mapper.namedTypes(), exceptions: failures.exceptions, diagnostics: [...mapper.diagnostics, ...failures.diagnostics] };
}

function resolveTask(t: EvaluatedTask, m: ExtractedModule, mapper: TypeMapper, route: (name: string) => { readonly [key: string]: JsonValue } | null, throws: Throws[]): Task {
  const serializer = typeof t.options['serializer'] === 'string' ? t.options['serializer'] : undefined;
  const base = { file: m.file, module: m.module, ...(serializer === undefined ? {} : { serializer }) };
  const paramContext: MapContext = { ...base, position: 'param' };
  const params = t.params.map((p) => resolveParam(p, paramContext, mapper));
  let returns: Returns;
  if (t.returns) {
    // pydantic=True (Celery 5.5+) dumps the result with model_dump(mode='json'), but only
    // when the return annotation is the model class itself (not list[Model]).
    const pydanticReturn = t.options['pydantic'] === true ? t.returns : undefined;
    const mapped = mapper.map(t.returns, { ...base, position: 'return', ...(pydanticReturn ? { pydanticReturn } : {}) });
    returns = { annotation: t.returns.text, tsType: mapped.ts, wireType: mapped.wire };
  } else {
    mapper.warn({ ...base, position: 'return' }, pointAt(t.location), 'unknown-type', `task '${t.function}' has no return annotation; its result is unknown`);
    returns = { annotation: null, tsType: UNKNOWN.ts, wireType: UNKNOWN.wire };
  }
  const name = t.resolvedName === undefined ? t.name : t.resolvedName;
  return {
    name,
    function: t.function,
    module: t.module,
    kind: t.kind,
    async: t.async,
    bind: t.bind,
    params,
    returns,
    options: t.options,
    nonLiteralOptions: t.nonLiteralOptions,
    route: name === null ? null : route(name),
    doc: t.doc,
    location: t.location,
    throws,
  };
}

function resolveParam(p: ExtractedParam, ctx: MapContext, mapper: TypeMapper): Param {
  let mapped: Mapped;
  if (p.annotation) mapped = mapper.map(p.annotation, ctx);
  else {
    mapper.warn(ctx, pointAt(p.location), 'unknown-type', `parameter '${p.name}' has no annotation; its type is unknown`);
    mapped = UNKNOWN;
  }
  // PEP 484's implicit Optional: `x: str = None` receives None when omitted.
  if (p.default?.literal && p.default.value === null) mapped = union([mapped, NULL]);
  const variadic = p.kind === 'var_positional' || p.kind === 'var_keyword';
  return {
    name: p.name,
    kind: p.kind,
    annotation: p.annotation?.text ?? null,
    tsType: mapped.ts,
    wireType: mapped.wire,
    required: !variadic && p.default === null,
    default: p.default,
    location: p.location,
  };
}

function pointAt(l: { line: number; column: number }) {
  return { line: l.line, column: l.column, endLine: l.line, endColumn: l.column };
}
