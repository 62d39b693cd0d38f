/**
 * Checks the generated names of a manifest before emitting: two things that would get
 * the same name are an error naming both places, never a silent suffix.
 */
import { type Diagnostic, excerpt } from './diagnostics.js';
import type { Location, Manifest, Task } from './model.js';
import { GENERATED_NAMES, camelCase, isIdentifier, namespaceKeys, paramName } from './names.js';

/** Names TypeScript reserves for its own types. */
const TS_TYPE_KEYWORDS = new Set(['any', 'unknown', 'never', 'object', 'string', 'number', 'boolean', 'symbol', 'bigint', 'undefined', 'type', 'keyof', 'infer', 'is', 'asserts', 'readonly', 'unique']);
import { optionFits } from './task-options.js';

function at(l: Location): string {
  return `${l.file}:${l.line}:${l.column}`;
}

function diag(l: Location, severity: 'error' | 'warning', code: Diagnostic['code'], message: string): Diagnostic {
  return { file: l.file, line: l.line, column: l.column, endLine: l.line, endColumn: l.column, severity, code, message };
}

export function checkManifest(model: Manifest): Diagnostic[] {
  const out: Diagnostic[] = [];
  const firstLine = (file: string): Location => ({ file, line: 1, column: 1 });

  const byModule = new Map<string, string>();
  for (const m of model.modules) {
    const other = byModule.get(m.module);
    if (other !== undefined) out.push(diag(firstLine(m.file), 'error', 'name-collision', `module '${m.module}' is also given as ${other}`));
    else byModule.set(m.module, m.file);
  }
  if (model.modules.length > 1) {
    const keys = namespaceKeys(model.modules.map((m) => m.module));
    const seen = new Map<string, string>();
    keys.forEach((k, i) => {
      const m = model.modules[i]!;
      const other = seen.get(k);
      if (other !== undefined && byModule.get(m.module) === m.file) {
        out.push(diag(firstLine(m.file), 'error', 'name-collision', `namespace '${k}' of module '${m.module}' collides with the one of ${other}`));
      } else seen.set(k, `${m.file} (module '${m.module}')`);
    });
  }

  const byName = new Map<string, Task>();
  const byKey = new Map<string, Task>();
  for (const t of model.tasks) {
    const other = t.name === null ? undefined : byName.get(t.name);
    if (other) out.push(diag(t.location, 'error', 'name-collision', `task name '${excerpt(t.name!)}' is also registered at ${at(other.location)}`));
    else if (t.name !== null) byName.set(t.name, t);
    const key = `${t.module}\0${camelCase(t.function)}`;
    const clash = byKey.get(key);
    if (clash && clash.function !== t.function) {
      out.push(diag(t.location, 'error', 'name-collision', `'${t.function}' and '${clash.function}' (${at(clash.location)}) both become '${camelCase(t.function)}' in TypeScript`));
    } else if (clash && !other) {
      out.push(diag(t.location, 'error', 'name-collision', `'${t.function}' is defined twice as a task; the first is at ${at(clash.location)}`));
    } else byKey.set(key, t);
    if (camelCase(t.function) === '__proto__') out.push(diag(t.location, 'error', 'name-collision', `'${t.function}' cannot be a property name: it would set the prototype of the generated objects`));
    const labels = new Map<string, string>();
    for (const p of t.params) {
      const label = paramName(p.name);
      const other = labels.get(label);
      if (other !== undefined) out.push(diag(p.location, 'error', 'name-collision', `parameters '${other}' and '${p.name}' of '${t.function}' both become '${label}' in TypeScript`));
      else labels.set(label, p.name);
    }
    for (const [key, value] of Object.entries(t.options)) {
      if (t.nonLiteralOptions.includes(key)) continue;
      if (optionFits(key, value) === false) {
        out.push(diag(t.location, 'warning', 'option-type', `option ${key}=${excerpt(JSON.stringify(value))} of task '${t.function}' has an unexpected type; the runtime ignores it`));
      }
    }
  }

  for (const ty of model.types) {
    if (!isIdentifier(ty.name) || paramName(ty.name) !== ty.name || TS_TYPE_KEYWORDS.has(ty.name)) {
      out.push(diag(ty.location, 'error', 'name-collision', `type '${ty.name}' cannot be a TypeScript type name`));
    } else if (GENERATED_NAMES.has(ty.name)) {
      out.push(diag(ty.location, 'error', 'name-collision', `type '${ty.name}' has the name of something the generated module declares or imports`));
    }
  }
  out.push(...checkExceptionNames(model));
  return out;
}

/** An exception class is a top-level TypeScript name: it may clash with another, a type or a task. */
function checkExceptionNames(model: Manifest): Diagnostic[] {
  const out: Diagnostic[] = [];
  const taken = new Map<string, string>();
  for (const ty of model.types) taken.set(ty.name, `type '${ty.module}.${ty.name}' (${at(ty.location)})`);
  for (const t of model.tasks) {
    const what = `task '${t.function}' (${at(t.location)})`;
    if (!taken.has(t.function)) taken.set(t.function, what);
    if (!taken.has(camelCase(t.function))) taken.set(camelCase(t.function), what);
  }
  for (const e of model.exceptions) {
    const self = `exception class '${e.module}.${e.qualname}'`;
    if (!isIdentifier(e.name) || paramName(e.name) !== e.name || TS_TYPE_KEYWORDS.has(e.name)) {
      out.push(diag(e.location, 'error', 'name-collision', `${self} cannot be a TypeScript class name`));
    } else if (GENERATED_NAMES.has(e.name)) {
      out.push(diag(e.location, 'error', 'name-collision', `${self} has the name of something the generated module declares or imports`));
    } else {
      const other = taken.get(e.name);
      if (other !== undefined) out.push(diag(e.location, 'error', 'name-collision', `${self} and ${other} both become '${e.name}' in TypeScript`));
      else taken.set(e.name, `${self} (${at(e.location)})`);
    }
  }
  return out;
}

