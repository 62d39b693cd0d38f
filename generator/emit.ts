/**
 * Manifest → TypeScript module text. Pure: it needs neither tree-sitter nor the input
 * files, only the model (so it can be tested from a hand-written model.json). Decides
 * every name and every order here; the templates only place the pieces.
 */
import type { ExceptionClass, Manifest, NamedType, Param, Task, TypeField } from './model.js';
import { BUILTIN_EXCEPTIONS } from './exceptions.js';
import { camelCase, namespaceKeys, paramName, propertyKey, quote } from './names.js';
import { renderModule } from './templates.js';
import { runtimeOptions } from './task-options.js';
import { jsDocLines } from './jsdoc.js';
import { tsLiteral, type Printable } from './ts-literal.js';

export interface EmitOptions {
  /**
   * Source paths for the header, relative to the output file. Defaults to the manifest's
   * module files.
   */
  readonly sources?: readonly string[];
}

export interface TaskView {
  /** Leading whitespace of the task's members: deeper inside a module namespace. */
  readonly indent: string;
  readonly key: string;
  readonly specPath: string;
  readonly handlerPath: string;
  readonly name: string;
  readonly bind: boolean;
  readonly argsType: string;
  readonly kwargsType: string;
  readonly resultType: string;
  /** The ParamSpec lines, indented, one per line (empty when there are none). */
  readonly params: string;
  readonly options: string;
  /** The matching `task_routes` entry's options the runtime honours, as a literal; empty when none. */
  readonly route: string;
  /** The Python app's `task_default_queue`, quoted; empty when unknown. */
  readonly defaultQueue: string;
  readonly handlerType: string;
  /** The JSDoc comment, indented, ending with a newline; empty when there is no docstring. */
  readonly doc: string;
}

export interface GroupView {
  /** The namespace key, or `null` when a single module is generated (flat keys). */
  readonly key: string | null;
  readonly tasks: readonly TaskView[];
}

export interface TypeView {
  readonly docLines: readonly string[];
  readonly lines: readonly string[];
}

export interface ModuleView {
  readonly sources: string;
  readonly imports: string;
  readonly types: readonly TypeView[];
  readonly groups: readonly GroupView[];
  readonly appParam: string;
  readonly handlersParam: string;
  /** True when the module declares exception classes, which createClient registers. */
  readonly registerExceptions: boolean;
}

/** The emitted module's text. Assumes the manifest has no errors (names were checked). */
export function emit(model: Manifest, options: EmitOptions = {}): string {
  return renderModule(moduleView(model, options));
}

export function moduleView(model: Manifest, options: EmitOptions = {}): ModuleView {
  const namespaced = model.modules.length > 1;
  const exceptionNames = new Map(model.exceptions.map((e) => [`${e.module}.${e.qualname}`, e.name]));
  const keys = namespaceKeys(model.modules.map((m) => m.module));
  const groups: GroupView[] = model.modules
    .map((m, i) => {
      const ns = namespaced ? keys[i]! : null;
      const tasks = model.tasks.filter((t) => t.module === m.module).map((t) => taskView(t, ns, model.defaultQueue ?? null, exceptionNames));
      return { key: ns, tasks };
    })
    .filter((g) => g.tasks.length > 0 || !namespaced);
  const hasTasks = model.tasks.length > 0;
  const values = hasTasks ? ['bindTask', 'defineTask', 'implementTask'] : [];
  const types = ['Celery', 'Worker', 'WorkerOptions'];
  if (hasTasks) types.push('Awaitable', 'ClientOf');
  if (model.tasks.some((t) => t.bind)) types.push('TaskContext');
  const exceptions = model.exceptions.map((e) => exceptionView(e, exceptionNames));
  if (exceptions.length > 0) {
    types.push('PythonExceptionClass');
    if (exceptions.some((e) => e.parent.startsWith('builtins.'))) values.push('builtins');
  }
  const imports = [...values.sort(), ...types.sort().map((t) => `type ${t}`)].join(', ');
  return {
    sources: (options.sources ?? model.modules.map((m) => m.file)).join(', '),
    imports,
    types: [...model.types.map(typeView), ...exceptions.map((e) => e.view), ...exceptionList(model.exceptions)],
    groups,
    appParam: hasTasks ? 'app' : '_app',
    handlersParam: hasTasks ? 'handlers' : '_handlers',
    registerExceptions: exceptions.length > 0,
  };
}

function taskView(t: Task, ns: string | null, defaultQueue: string | null, exceptionNames: ReadonlyMap<string, string>): TaskView {
  const key = camelCase(t.function);
  const path = ns ? `${ns}.${key}` : key;
  const indent = ns ? '    ' : '  ';
  const throws = t.throws.map((x) => {
    const ref = x.exception === null ? undefined : (exceptionNames.get(x.exception) ?? (isBuiltin(x.exception) ? x.exception : undefined));
    // Unresolved: get() rejects with a plain TaskError whose excType says the Python name.
    const type = ref ?? 'TaskError';
    const text = ref === undefined ? `Python's \`${x.name}\`${x.description === null ? '' : `: ${x.description}`}` : (x.description ?? '');
    return `{${type}}${text === '' ? '' : ` ${text}`}`;
  });
  const docLines = jsDocLines(t.doc, t.params.map((p) => [p.name, paramName(p.name)] as const), throws);
  // Pre-joined blocks: a handlebars {{#each}} per line costs more than the rest of the render.
  let doc = '';
  for (const line of docLines) doc += `${indent}${line}\n`;
  return {
    indent,
    key,
    specPath: `TASK_SPECS.${path}`,
    handlerPath: `handlers.${path}`,
    name: quote(t.name ?? ''),
    bind: t.bind,
    argsType: argsType(t.params),
    kwargsType: kwargsType(t.params),
    resultType: t.returns.tsType,
    params: t.params.map((p) => `${indent}    ${paramSpec(p)},`).join('\n'),
    options: tsLiteral(Object.fromEntries(runtimeOptions(t.options, t.nonLiteralOptions))),
    // A version-1 model.json has neither field.
    route: routeLiteral(t.route ?? null),
    defaultQueue: defaultQueue === null ? '' : quote(defaultQueue),
    handlerType: handlerType(t),
    doc,
  };
}

function routeLiteral(route: Task['route']): string {
  if (route === null) return '';
  return tsLiteral(Object.fromEntries(runtimeOptions(route, [])));
}

/** `delay()`'s tuple: positional parameters in order, optional ones optional, `*args` spread. */
function argsType(params: readonly Param[]): string {
  const parts: string[] = [];
  for (const p of params) {
    if (p.kind === 'positional_only' || p.kind === 'positional_or_keyword') {
      parts.push(`${paramName(p.name)}${p.required ? '' : '?'}: ${p.tsType}`);
    } else if (p.kind === 'var_positional') {
      parts.push(`...${paramName(p.name)}: ${arrayOf(p.tsType)}`);
    }
  }
  return `[${parts.join(', ')}]`;
}

/** The parameters that may be passed by name; all optional, as `applyAsync` merges them with `args`. */
function kwargsType(params: readonly Param[]): string {
  const named = params.filter((p) => p.kind === 'positional_or_keyword' || p.kind === 'keyword_only');
  const rest = params.find((p) => p.kind === 'var_keyword');
  if (named.length === 0 && !rest) return 'Record<string, never>';
  const members = named.map((p) => `${propertyKey(p.name)}?: ${p.tsType}`);
  if (rest) {
    // Every named property must also fit the index signature, and without
    // exactOptionalPropertyTypes an optional property's type includes undefined (TS2411).
    const valueTypes = [rest.tsType, ...named.map((p) => p.tsType)];
    if (named.length > 0) valueTypes.push('undefined');
    const index = valueTypes.includes('unknown') ? 'unknown' : [...new Set(valueTypes)].join(' | ');
    members.push(`[key: string]: ${index}`);
  }
  return `{ ${members.join('; ')} }`;
}

function handlerType(t: Task): string {
  const used = new Set(t.params.map((p) => paramName(p.name)));
  let ctx = 'ctx';
  while (used.has(ctx)) ctx = `${ctx}_`;
  const parts = t.bind ? [`${ctx}: TaskContext`] : [];
  for (const p of t.params) {
    const name = paramName(p.name);
    if (p.kind === 'var_positional') parts.push(`${name}: ${arrayOf(p.tsType)}`);
    else if (p.kind === 'var_keyword') parts.push(`${name}: Record<string, ${p.tsType}>`);
    // The worker fills literal defaults; a computed default it cannot know arrives as undefined.
    else if (p.default && !p.default.literal) parts.push(`${name}: ${p.tsType} | undefined`);
    else parts.push(`${name}: ${p.tsType}`);
  }
  // `-> None`: a handler that returns nothing is fine (the worker replies null).
  const result = t.returns.tsType === 'null' ? 'void | null' : t.returns.tsType;
  return `(${parts.join(', ')}) => Awaitable<${result}>`;
}

/** Printed wire types by identity: the type mapper hands out one object per distinct annotation. */
const WIRE_TEXT = new WeakMap<object, string>();

function paramSpec(p: Param): string {
  let wire = WIRE_TEXT.get(p.wireType);
  if (wire === undefined) {
    wire = tsLiteral(p.wireType as unknown as Printable);
    WIRE_TEXT.set(p.wireType, wire);
  }
  // What tsLiteral prints for { name, kind, required, default?, type }, written out: it runs for every parameter.
  const dflt = p.default?.literal ? `, default: ${tsLiteral(p.default.value)}` : '';
  return `{ name: ${quote(p.name)}, kind: ${quote(p.kind)}, required: ${p.required ? 'true' : 'false'}${dflt}, type: ${wire} }`;
}

function arrayOf(ts: string): string {
  return isTopLevelUnion(ts) ? `(${ts})[]` : `${ts}[]`;
}

/** True when `ts` has a `|` outside brackets and quotes, so it needs parentheses before `[]`. */
export function isTopLevelUnion(ts: string): boolean {
  let depth = 0;
  for (let i = 0; i < ts.length; i++) {
    const c = ts[i]!;
    if (c === "'") {
      for (i++; i < ts.length && ts[i] !== "'"; i++) if (ts[i] === '\\') i++;
    } else if ('([{<'.includes(c)) depth++;
    else if (')]}>'.includes(c)) depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

function isBuiltin(identity: string): boolean {
  return identity.startsWith('builtins.') && BUILTIN_EXCEPTIONS.has(identity.slice('builtins.'.length));
}

/**
 * `export class CardDeclined extends BillingError`: the first base that is an exception
 * class the module declares, or a builtin; else `builtins.BaseException` (every Python
 * exception is one). Its Python identity is what the worker sends and the registry matches.
 */
function exceptionView(e: ExceptionClass, names: ReadonlyMap<string, string>): { view: TypeView; parent: string } {
  const base = e.bases.find((b) => names.has(b) || isBuiltin(b));
  const parent = base === undefined ? 'builtins.BaseException' : (names.get(base) ?? base);
  const docLines = jsDocLines(e.doc ?? `Python's \`${e.module}.${e.qualname}\`.`, []);
  const lines = [
    `export class ${e.name} extends ${parent} {`,
    `  static override readonly pythonModule: string = ${quote(e.module)};`,
    `  static override readonly pythonQualname: string = ${quote(e.qualname)};`,
    '}',
  ];
  return { view: { docLines, lines }, parent };
}

function exceptionList(exceptions: readonly ExceptionClass[]): TypeView[] {
  if (exceptions.length === 0) return [];
  return [
    {
      docLines: ['/** The exception classes above, for `app.registerExceptions()` (`createClient` registers them). */'],
      lines: [`export const EXCEPTIONS: readonly PythonExceptionClass[] = [${exceptions.map((e) => e.name).join(', ')}];`],
    },
  ];
}

function typeView(t: NamedType): TypeView {
  const origin = { typeddict: 'TypedDict', dataclass: 'dataclass', pydantic: 'pydantic model', enum: 'Enum', namedtuple: 'NamedTuple' }[t.kind];
  const docLines = jsDocLines(t.doc ?? `${origin} \`${t.module}.${t.name}\` from the Python source.`, []);
  switch (t.kind) {
    case 'enum': {
      const values = [...new Set(t.members.map((m) => (typeof m.value === 'string' ? quote(m.value) : String(m.value))))];
      return { docLines, lines: [`export type ${t.name} = ${values.length > 0 ? values.join(' | ') : 'never'};`] };
    }
    case 'namedtuple':
      return { docLines, lines: [`export type ${t.name} = [${t.fields.map((f) => `${paramName(f.name)}: ${f.tsType}`).join(', ')}];`] };
    default:
      return { docLines, lines: [`export interface ${t.name} {`, ...t.fields.flatMap(fieldLines), '}'] };
  }
}

function fieldLines(f: TypeField): string[] {
  const doc = jsDocLines(f.doc, []).map((l) => `  ${l}`);
  return [...doc, `  ${propertyKey(f.name)}${f.required ? '' : '?'}: ${f.tsType};`];
}
