/**
 * Binds wire args/kwargs to a handler's positional parameter list the way CPython binds
 * a call, and checks the values against the types the generator read from the Python
 * annotations.
 *
 * Errors are ArgumentError with CPython 3.11's exact TypeError wording (the worker sends
 * them back as a Python `TypeError`, so a Python caller sees what a Python worker would
 * have said), checked in CPython's order: unexpected / duplicate keywords first, then too
 * many positionals, then missing positionals, then missing keyword-only arguments.
 * The function name is the last dotted part of the task name (`proj.tasks.add` → `add`);
 * for a `bind=True` task the counts include `self`, as Python's do.
 *
 * Missing optional parameters get the spec's literal default (a fresh copy per call); an
 * optional parameter whose default was not a literal is passed as `undefined`, so the
 * handler's own TS default applies. `*args` arrives as one array, `**kwargs` as one
 * object whose keys (`__proto__` and `constructor` included) are own data properties.
 */
import { ArgumentError } from './errors.js';
import { setOwn } from './own-property.js';
import type { ParamSpec, TaskSpec, WireType } from './spec.js';

export function bindArguments(spec: TaskSpec, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): unknown[] {
  const fn = `${functionName(spec.name)}()`;
  const params = spec.params;
  const positional = params.filter((p) => p.kind === 'positional_only' || p.kind === 'positional_or_keyword');
  const varArgs = params.find((p) => p.kind === 'var_positional');
  const varKw = params.find((p) => p.kind === 'var_keyword');
  const values = new Map<string, unknown>();
  const extraKw: Record<string, unknown> = {};

  const given = Math.min(args.length, positional.length);
  for (let i = 0; i < given; i++) values.set((positional[i] as ParamSpec).name, args[i]);

  for (const key of Object.keys(kwargs)) {
    const param = params.find((p) => p.name === key && (p.kind === 'positional_or_keyword' || p.kind === 'keyword_only'));
    if (param === undefined) {
      if (varKw !== undefined) {
        setOwn(extraKw, key, kwargs[key]);
        continue;
      }
      // CPython checks every keyword against the positional-only names first (in parameter order).
      const conflicts = params.filter((p) => p.kind === 'positional_only' && Object.hasOwn(kwargs, p.name)).map((p) => p.name);
      if (conflicts.length > 0) {
        throw new ArgumentError(`${fn} got some positional-only arguments passed as keyword arguments: '${conflicts.join(', ')}'`);
      }
      throw new ArgumentError(`${fn} got an unexpected keyword argument '${key}'`);
    }
    if (values.has(key)) throw new ArgumentError(`${fn} got multiple values for argument '${key}'`);
    values.set(key, kwargs[key]);
  }

  if (args.length > positional.length && varArgs === undefined) {
    const self = spec.bind ? 1 : 0;
    const argcount = positional.length + self;
    const defcount = positional.filter((p) => !p.required).length;
    const sig = defcount > 0 ? `from ${argcount - defcount} to ${argcount}` : String(argcount);
    const plural = defcount > 0 || argcount !== 1;
    const n = args.length + self;
    const kwonlyGiven = params.filter((p) => p.kind === 'keyword_only' && values.has(p.name)).length;
    const kwonlySig =
      kwonlyGiven > 0 ? ` positional argument${n !== 1 ? 's' : ''} (and ${kwonlyGiven} keyword-only argument${kwonlyGiven !== 1 ? 's' : ''})` : '';
    throw new ArgumentError(
      `${fn} takes ${sig} positional argument${plural ? 's' : ''} but ${n}${kwonlySig} ${n === 1 && kwonlyGiven === 0 ? 'was' : 'were'} given`,
    );
  }

  const missingPositional = positional.filter((p) => p.required && !values.has(p.name)).map((p) => p.name);
  if (missingPositional.length > 0) {
    throw new ArgumentError(
      `${fn} missing ${missingPositional.length} required positional argument${missingPositional.length === 1 ? '' : 's'}: ${nameList(missingPositional)}`,
    );
  }
  const missingKwonly = params.filter((p) => p.kind === 'keyword_only' && p.required && !values.has(p.name)).map((p) => p.name);
  if (missingKwonly.length > 0) {
    throw new ArgumentError(
      `${fn} missing ${missingKwonly.length} required keyword-only argument${missingKwonly.length === 1 ? '' : 's'}: ${nameList(missingKwonly)}`,
    );
  }

  const bound: unknown[] = [];
  for (const param of params) {
    switch (param.kind) {
      case 'var_positional': {
        const rest = args.slice(positional.length);
        rest.forEach((value, i) => checkType(fn, param.name, param.type, value, `[${i}]`));
        bound.push(rest);
        break;
      }
      case 'var_keyword': {
        for (const key of Object.keys(extraKw)) checkType(fn, key, param.type, extraKw[key]);
        bound.push(extraKw);
        break;
      }
      default: {
        if (values.has(param.name)) {
          const value = values.get(param.name);
          checkType(fn, param.name, param.type, value);
          bound.push(value);
        } else {
          bound.push(param.default === undefined ? undefined : structuredClone(param.default));
        }
      }
    }
  }
  return bound;
}

function functionName(taskName: string): string {
  const last = taskName.split('.').pop();
  return last === undefined || last === '' ? taskName : last;
}

/** CPython's list: `'x'`, `'x' and 'y'`, `'x', 'y', and 'z'`. */
function nameList(names: readonly string[]): string {
  const quoted = names.map((n) => `'${n}'`);
  if (quoted.length === 1) return quoted[0] as string;
  if (quoted.length === 2) return `${quoted[0]} and ${quoted[1]}`;
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`;
}

// ---------------------------------------------------------------------------------------
// Type checks

function checkType(fn: string, name: string, type: WireType, value: unknown, at = ''): void {
  const problem = mismatch(type, value, at);
  if (problem !== null) {
    const where = `'${name}'${problem.path}`;
    throw new ArgumentError(`${fn} argument ${where} must be ${problem.expected}, not ${pyTypeName(problem.actual)}`);
  }
}

interface Mismatch {
  path: string;
  expected: string;
  actual: unknown;
}

function mismatch(type: WireType, value: unknown, path: string): Mismatch | null {
  const fail = (): Mismatch => ({ path, expected: describeType(type), actual: value });
  switch (type.type) {
    case 'unknown':
      return null;
    case 'null':
      return value === null ? null : fail();
    case 'boolean':
      return typeof value === 'boolean' ? null : fail();
    case 'number':
      if (typeof value !== 'number') return fail();
      return type.integer === true && !Number.isInteger(value) ? fail() : null;
    case 'string':
      return typeof value === 'string' ? null : fail();
    case 'bytes':
      return value instanceof Uint8Array ? null : fail();
    case 'literal':
      return value === type.value ? null : fail();
    case 'array': {
      if (!Array.isArray(value)) return fail();
      for (let i = 0; i < value.length; i++) {
        const inner = mismatch(type.items, value[i], `${path}[${i}]`);
        if (inner !== null) return inner;
      }
      return null;
    }
    case 'tuple': {
      if (!Array.isArray(value) || value.length !== type.items.length) return fail();
      for (let i = 0; i < value.length; i++) {
        const inner = mismatch(type.items[i] as WireType, value[i], `${path}[${i}]`);
        if (inner !== null) return inner;
      }
      return null;
    }
    case 'record': {
      if (!isRecord(value)) return fail();
      for (const key of Object.keys(value)) {
        const inner = mismatch(type.values, value[key], `${path}[${JSON.stringify(key)}]`);
        if (inner !== null) return inner;
      }
      return null;
    }
    case 'object': {
      if (!isRecord(value)) return fail();
      for (const field of type.fields) {
        if (!Object.hasOwn(value, field.name)) {
          if (field.required) return { path: `${path}[${JSON.stringify(field.name)}]`, expected: describeType(field.value), actual: undefined };
          continue;
        }
        const inner = mismatch(field.value, value[field.name], `${path}[${JSON.stringify(field.name)}]`);
        if (inner !== null) return inner;
      }
      return null;
    }
    case 'union':
      return type.members.some((member) => mismatch(member, value, path) === null) ? null : fail();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** The Python spelling of a wire type, as a TypeError would name it. */
export function describeType(type: WireType): string {
  switch (type.type) {
    case 'unknown':
      return 'Any';
    case 'null':
      return 'None';
    case 'boolean':
      return 'bool';
    case 'number':
      return type.integer === true ? 'int' : 'float';
    case 'string':
      return 'str';
    case 'bytes':
      return 'bytes';
    case 'literal':
      return `Literal[${literalRepr(type.value)}]`;
    case 'array':
      return `list[${describeType(type.items)}]`;
    case 'tuple':
      return `tuple[${type.items.map(describeType).join(', ')}]`;
    case 'record':
      return `dict[str, ${describeType(type.values)}]`;
    case 'object':
      return 'dict';
    case 'union':
      return type.members.map(describeType).join(' | ');
  }
}

function literalRepr(value: string | number | boolean | null): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(value);
}

/** The Python type name of a decoded wire value. */
export function pyTypeName(value: unknown): string {
  if (value === null) return 'NoneType';
  if (value === undefined) return 'nothing';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'str';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'dict';
  return typeof value;
}
