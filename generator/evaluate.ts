/**
 * Constant evaluation of task options and app settings, across the modules read:
 * literals, module constants and class attributes (`Queues.REPORTS`, local or imported),
 * f-strings and `+` over them, and a str-valued Enum member's `.value`. Pure: reads
 * {@link ConstExpr} trees through a {@link Scope}; what it cannot evaluate it names.
 */
import { type Diagnostic, excerpt } from './diagnostics.js';
import type { ConstExpr, ExtractedModule, ExtractedTask } from './extracted.js';
import type { JsonValue } from './model.js';
import type { Scope } from './scope.js';
import { TASK_OPTION_TYPES } from './task-options.js';

export type Evaluated = { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly culprit: ConstExpr };

/** Options that decide where a task is published. */
const ROUTING_OPTIONS = new Set(['queue', 'exchange', 'routing_key', 'priority']);

/** Constants defined through more constants than this are cycles (`A = B`, `B = A`). */
const MAX_DEPTH = 64;

/** Evaluates `expr` as written in module `module`. */
export function evaluate(expr: ConstExpr, module: string, scope: Scope, depth = 0): Evaluated {
  const fail: Evaluated = { ok: false, culprit: expr };
  if (depth > MAX_DEPTH) return fail;
  switch (expr.kind) {
    case 'literal':
      return { ok: true, value: expr.value };
    case 'name': {
      const binding = scope.resolve(module, expr.name, 'value');
      if (!binding || binding.kind !== 'constant') return fail;
      const inner = evaluate(binding.expr, binding.module.module, scope, depth + 1);
      if (!inner.ok) return inner.culprit === binding.expr ? fail : inner;
      // `Queues.REPORTS.value`: the member's value; a str Enum member is that string already.
      if (binding.rest.length === 0 || (binding.rest.length === 1 && binding.rest[0] === 'value' && isScalar(inner.value))) return inner;
      return fail;
    }
    case 'fstring': {
      let out = '';
      for (const part of expr.parts) {
        if (typeof part === 'string') {
          out += part;
          continue;
        }
        const v = evaluate(part, module, scope, depth + 1);
        if (!v.ok) return v;
        if (typeof v.value === 'string') out += v.value;
        else if (typeof v.value === 'number' && Number.isInteger(v.value)) out += String(v.value);
        else return { ok: false, culprit: part };
      }
      return { ok: true, value: out };
    }
    case 'add': {
      const l = evaluate(expr.left, module, scope, depth + 1);
      if (!l.ok) return l;
      const r = evaluate(expr.right, module, scope, depth + 1);
      if (!r.ok) return r;
      if (typeof l.value === 'string' && typeof r.value === 'string') return { ok: true, value: l.value + r.value };
      if (typeof l.value === 'number' && typeof r.value === 'number') return { ok: true, value: l.value + r.value };
      return fail;
    }
    case 'list': {
      const items: JsonValue[] = [];
      for (const item of expr.items) {
        const v = evaluate(item, module, scope, depth + 1);
        if (!v.ok) return v;
        items.push(v.value);
      }
      return { ok: true, value: items };
    }
    case 'dict': {
      const out: { [key: string]: JsonValue } = {};
      for (const [k, v] of expr.entries) {
        const key = evaluate(k, module, scope, depth + 1);
        if (!key.ok) return key;
        if (typeof key.value !== 'string') return { ok: false, culprit: k };
        const value = evaluate(v, module, scope, depth + 1);
        if (!value.ok) return value;
        Object.defineProperty(out, key.value, { value: value.value, enumerable: true, writable: true, configurable: true });
      }
      return { ok: true, value: out };
    }
    default:
      return fail;
  }
}

function isScalar(v: JsonValue): boolean {
  return v === null || typeof v !== 'object';
}

/** How the option's expression failed, naming the part that could not be resolved. */
function unresolved(expr: ConstExpr, culprit: ConstExpr): string {
  return culprit === expr ? `'${excerpt(expr.text)}'` : `'${excerpt(expr.text)}' ('${excerpt(culprit.text)}' cannot be resolved)`;
}

/**
 * A task with its non-literal options evaluated where possible. An unresolvable `name=`
 * is an error for this task alone (its name becomes null); another option the runtime
 * honours becomes a warning, since the TypeScript side will not route by it.
 */
/** A task whose options were evaluated: `resolvedName` is null when `name=` could not be. */
export type EvaluatedTask = ExtractedTask & { readonly resolvedName: string | null };

export function evaluateTaskOptions(task: ExtractedTask, m: ExtractedModule, scope: Scope): { task: EvaluatedTask; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const options: { [key: string]: JsonValue } = { ...task.options };
  const nonLiteral: string[] = [];
  for (const key of task.nonLiteralOptions) {
    const expr = task.optionExprs[key];
    const v = expr ? evaluate(expr, m.module, scope) : null;
    if (v?.ok) {
      Object.defineProperty(options, key, { value: v.value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    nonLiteral.push(key);
    if (!expr || !v || v.ok) continue;
    const at = { file: m.file, ...expr.span };
    if (key === 'name') {
      diagnostics.push({ ...at, severity: 'error', code: 'non-literal-name', message: `task name of '${task.function}' cannot be resolved: ${unresolved(expr, v.culprit)} is not a constant the generator can evaluate, so the name Celery registers cannot be known` });
    } else if (TASK_OPTION_TYPES.has(key)) {
      diagnostics.push({ ...at, severity: 'warning', code: 'unresolved-option', message: `option ${key}= of '${task.function}' cannot be resolved: ${unresolved(expr, v.culprit)}; the TypeScript side will not ${ROUTING_OPTIONS.has(key) ? 'route by' : 'apply'} it` });
    }
  }
  let resolvedName: string | null = task.name;
  if (Object.hasOwn(options, 'name')) {
    if (typeof options['name'] === 'string' && !nonLiteral.includes('name')) resolvedName = options['name'];
    else {
      resolvedName = null;
      if (!nonLiteral.includes('name')) {
        diagnostics.push({ ...task.location, file: m.file, endLine: task.location.line, endColumn: task.location.column, severity: 'error', code: 'non-literal-name', message: `task name of '${task.function}' is not a string, so the name Celery registers cannot be known` });
      }
    }
  }
  return { task: { ...task, name: resolvedName ?? task.name, options, nonLiteralOptions: nonLiteral, resolvedName }, diagnostics };
}
