/**
 * Name resolution across the modules a run read: what a dotted name written in one module
 * refers to, following imports (`from .schemas import Item`, `import proj.constants as c`),
 * re-exports through `__init__.py` and `from x import *` (limited by `__all__`), as Python
 * would bind them. Reads definitions only; never executes anything.
 */
import type { ConstExpr, ExtractedAlias, ExtractedClass, ExtractedClassDef, ExtractedModule } from './extracted.js';

export type Binding =
  | { readonly kind: 'module'; readonly module: ExtractedModule }
  | { readonly kind: 'class'; readonly module: ExtractedModule; readonly cls: ExtractedClass }
  | { readonly kind: 'alias'; readonly module: ExtractedModule; readonly alias: ExtractedAlias }
  /** Any other class statement (exception classes among them): its name, bases and doc. */
  | { readonly kind: 'classdef'; readonly module: ExtractedModule; readonly def: ExtractedClassDef }
  /** A constant; `rest` holds attribute names written after it (`Queues.REPORTS.value` → ['value']). */
  | { readonly kind: 'constant'; readonly module: ExtractedModule; readonly name: string; readonly expr: ConstExpr; readonly rest: readonly string[] }
  /** Outside the modules read (stdlib, third-party): its absolute dotted name. */
  | { readonly kind: 'external'; readonly name: string };

/** Re-export chains longer than this are cycles (`a` imports from `b` imports from `a`). */
const MAX_HOPS = 64;

/**
 * What a lookup is for. `X = Y` binds a name Python uses either way: as a type alias where
 * a type is written, as a constant where a value is (`QUEUE = DEFAULT_QUEUE`), so a
 * lookup for a value finds the constant first.
 */
export type Wanted = 'type' | 'value';

export class Scope {
  readonly #modules: ReadonlyMap<string, ExtractedModule>;

  constructor(modules: readonly ExtractedModule[]) {
    this.#modules = new Map(modules.map((m) => [m.module, m]));
  }

  module(name: string): ExtractedModule | undefined {
    return this.#modules.get(name);
  }

  /** What `dotted`, written in module `from`, refers to; null for a name the module does not bind. */
  resolve(from: string, dotted: string, wanted: Wanted = 'type'): Binding | null {
    const m = this.#modules.get(from);
    return m ? this.#lookup(m, dotted.split('.'), 0, wanted) : null;
  }

  /** What an absolute dotted name refers to: the longest prefix that is a module read, then names inside it. */
  resolveAbsolute(dotted: string, hops = 0, wanted: Wanted = 'type'): Binding | null {
    const parts = dotted.split('.');
    for (let i = parts.length; i >= 1; i--) {
      const m = this.#modules.get(parts.slice(0, i).join('.'));
      if (!m) continue;
      return i === parts.length ? { kind: 'module', module: m } : this.#lookup(m, parts.slice(i), hops + 1, wanted);
    }
    return { kind: 'external', name: dotted };
  }

  #lookup(m: ExtractedModule, parts: readonly string[], hops: number, wanted: Wanted): Binding | null {
    if (hops > MAX_HOPS || parts.length === 0) return null;
    const [head, ...rest] = parts as [string, ...string[]];
    // A class attribute (`Queues.REPORTS`) is recorded under its dotted name.
    if (rest.length > 0) {
      const attr = `${head}.${rest[0]}`;
      if (Object.hasOwn(m.constants, attr)) return { kind: 'constant', module: m, name: attr, expr: m.constants[attr]!, rest: rest.slice(1) };
    }
    if (wanted === 'value' && Object.hasOwn(m.constants, head)) return { kind: 'constant', module: m, name: head, expr: m.constants[head]!, rest };
    const cls = m.classes.find((c) => c.name === head);
    if (cls && rest.length === 0) return { kind: 'class', module: m, cls };
    const alias = m.aliases.find((a) => a.name === head);
    if (alias && rest.length === 0) return { kind: 'alias', module: m, alias };
    if (rest.length === 0 && !cls && !alias) {
      const def = lastClassDef(m, head);
      if (def) return { kind: 'classdef', module: m, def };
    }
    if (Object.hasOwn(m.constants, head) && !cls) return { kind: 'constant', module: m, name: head, expr: m.constants[head]!, rest };
    if (Object.hasOwn(m.imports, head)) return this.resolveAbsolute([m.imports[head]!, ...rest].join('.'), hops + 1, wanted);
    // A submodule of a package, bound once imported anywhere (`proj.billing` after `import proj.billing.tasks`).
    const sub = this.#modules.get(`${m.module}.${head}`);
    if (sub) return rest.length === 0 ? { kind: 'module', module: sub } : this.#lookup(sub, rest, hops + 1, wanted);
    for (const star of m.starImports) {
      const target = this.#modules.get(star);
      if (!target || !exports(target, head)) continue;
      const found = this.#lookup(target, parts, hops + 1, wanted);
      if (found) return found;
    }
    return null;
  }
}

/** Python binds the last definition of a name. */
export function lastClassDef(m: ExtractedModule, name: string): ExtractedClassDef | undefined {
  for (let i = m.classDefs.length - 1; i >= 0; i--) if (m.classDefs[i]!.name === name) return m.classDefs[i];
  return undefined;
}

/** Whether `from module import *` brings `name`: listed in `__all__`, or public when there is none. */
function exports(m: ExtractedModule, name: string): boolean {
  const all = Object.hasOwn(m.constants, '__all__') ? m.constants['__all__'] : undefined;
  if (!all) return !name.startsWith('_');
  if (all.kind === 'literal' && Array.isArray(all.value)) return all.value.includes(name);
  return all.kind === 'list' && all.items.some((i) => i.kind === 'literal' && i.value === name);
}
