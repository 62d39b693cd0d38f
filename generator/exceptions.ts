/**
 * Resolves the exceptions tasks name as raised (raises.ts) to classes: Python builtins,
 * or classes defined in the input modules (followed through `import`/`from ... import`),
 * with their bases. Produces the manifest's `exceptions` and each task's `throws`.
 *
 * Every name goes through {@link lookupClass}, the one place that decides what a name in a
 * module refers to; cross-module resolution elsewhere in the generator can replace it.
 */
import type { Diagnostic } from './diagnostics.js';
import type { ExtractedClassDef, ExtractedModule, ExtractedRaise, ExtractedTask } from './extracted.js';
import type { ExceptionClass, Location, Throws } from './model.js';
import * as pythonBuiltins from '../runtime/protocol/python-builtins.js';
import { lastClassDef, type Scope } from './scope.js';

/** The builtin exception names the runtime has classes for (`builtins.KeyError`). */
export const BUILTIN_EXCEPTIONS: ReadonlySet<string> = new Set(Object.values(pythonBuiltins).map((cls) => cls.pythonQualname));

export type ClassRef = { readonly kind: 'builtin'; readonly name: string } | { readonly kind: 'class'; readonly def: ExtractedClassDef };

/**
 * What `name` (as written in module `from`) refers to: a class of a module read (followed
 * through imports and re-exports by the project's {@link Scope}), a Python builtin
 * exception, or `null` when neither can be told.
 */
export function lookupClass(scope: Scope, from: ExtractedModule, name: string): ClassRef | null {
  const binding = scope.resolve(from.module, name);
  if (binding?.kind === 'classdef') return { kind: 'class', def: binding.def };
  if (binding?.kind === 'class') {
    const def = lastClassDef(binding.module, binding.cls.name);
    return def ? { kind: 'class', def } : null;
  }
  if (binding?.kind === 'external') {
    const builtin = /^builtins\.([A-Za-z_]\w*)$/.exec(binding.name)?.[1];
    return builtin !== undefined && BUILTIN_EXCEPTIONS.has(builtin) ? { kind: 'builtin', name: builtin } : null;
  }
  // Unbound in the module: a builtin, as Python's name lookup ends in `builtins`.
  return binding === null && BUILTIN_EXCEPTIONS.has(name) ? { kind: 'builtin', name } : null;
}

function identity(ref: ClassRef): string {
  return ref.kind === 'builtin' ? `builtins.${ref.name}` : `${ref.def.module}.${ref.def.name}`;
}

export interface ResolvedExceptions {
  readonly exceptions: ExceptionClass[];
  readonly throws: ReadonlyMap<ExtractedTask, Throws[]>;
  readonly diagnostics: Diagnostic[];
}

/** `modules` are the inputs (whose tasks raise); `scope` also holds the modules followed by import. */
export function resolveExceptions(modules: readonly ExtractedModule[], scope: Scope, others: readonly ExtractedModule[] = []): ResolvedExceptions {
  const diagnostics: Diagnostic[] = [];
  const throws = new Map<ExtractedTask, Throws[]>();
  const classes = new Map<string, { def: ExtractedClassDef; bases: string[]; parent: string | null }>();
  const moduleOf = new Map<ExtractedClassDef, ExtractedModule>();
  for (const m of [...modules, ...others]) for (const c of m.classDefs) moduleOf.set(c, m);

  /** Adds a class and (first) its exception bases; returns whether it is an exception class. */
  const visit = (def: ExtractedClassDef, stack: Set<ExtractedClassDef>): boolean => {
    const key = `${def.module}.${def.name}`;
    if (classes.has(key)) return true;
    if (stack.has(def)) return false; // a cycle of bases: Python refuses it too
    stack.add(def);
    const m = moduleOf.get(def)!;
    const bases: string[] = [];
    let parent: string | null = null;
    let anyException = false;
    for (const written of def.bases) {
      const ref = lookupClass(scope, m, written);
      if (!ref) {
        bases.push(written);
        continue;
      }
      bases.push(identity(ref));
      const isException = ref.kind === 'builtin' || visit(ref.def, stack);
      if (isException && parent === null) parent = identity(ref);
      anyException ||= isException;
    }
    // Unreadable bases may well be exceptions: a class with only resolved, non-exception bases is not.
    const exceptionLike = anyException || def.bases.some((b) => lookupClass(scope, m, b) === null);
    stack.delete(def);
    if (exceptionLike) classes.set(key, { def, bases, parent });
    return exceptionLike;
  };

  for (const m of modules) {
    for (const t of m.tasks) {
      const entries: Throws[] = [];
      const seen = new Map<string, number>();
      for (const r of t.raises) {
        const ref = lookupClass(scope, m, r.name);
        const exception = ref ? identity(ref) : null;
        const key = exception ?? `?${r.name}`;
        const at = seen.get(key);
        if (at !== undefined) {
          if (entries[at]!.description === null && r.description !== null) entries[at] = { ...entries[at]!, description: r.description };
          continue;
        }
        if (!ref) diagnostics.push(unresolved(r, t));
        else if (ref.kind === 'class') visit(ref.def, new Set());
        seen.set(key, entries.length);
        entries.push({ exception, name: r.name, description: r.description });
      }
      throws.set(t, entries);
    }
  }
  return { exceptions: ordered(classes, modules), throws, diagnostics };
}

function unresolved(r: ExtractedRaise, t: ExtractedTask): Diagnostic {
  const where = r.origin === 'raise' ? 'raises' : r.origin === 'docstring' ? 'documents raising' : `lists in ${r.origin}`;
  return warning(r.location, `task '${t.function}' ${where} '${r.name}', which is not a class of the input modules nor a Python builtin; its failures reach TypeScript as TaskError`);
}

function warning(l: Location, message: string): Diagnostic {
  return { file: l.file, line: l.line, column: l.column, endLine: l.line, endColumn: l.column, severity: 'warning', code: 'unresolved-exception', message };
}

/** Input order (module, then position), each class after its TypeScript parent. */
function ordered(classes: ReadonlyMap<string, { def: ExtractedClassDef; bases: string[]; parent: string | null }>, modules: readonly ExtractedModule[]): ExceptionClass[] {
  const rank = new Map(modules.map((m, i) => [m.module, i]));
  const keys = [...classes.keys()].sort((a, b) => {
    const x = classes.get(a)!.def;
    const y = classes.get(b)!.def;
    return rank.get(x.module)! - rank.get(y.module)! || x.location.line - y.location.line || x.location.column - y.location.column;
  });
  const out: ExceptionClass[] = [];
  const done = new Set<string>();
  const place = (key: string): void => {
    if (done.has(key)) return;
    done.add(key);
    const c = classes.get(key)!;
    if (c.parent !== null && classes.has(c.parent)) place(c.parent);
    out.push({ name: c.def.name, module: c.def.module, qualname: c.def.name, bases: c.bases, doc: c.def.doc, location: c.def.location });
  };
  for (const key of keys) place(key);
  return out;
}
