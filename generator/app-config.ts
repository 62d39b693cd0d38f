/**
 * The Celery app's routing configuration, read from the modules a run followed: the
 * `Celery(...)` app (also behind `proj/__init__.py` → `proj/celery.py`), its
 * `task_default_queue` and literal `task_routes` from `app.conf.task_routes = ...`,
 * `app.conf.update(...)` and a module named by `app.config_from_object(...)`. Explicit
 * `app.conf` changes win over the config module, as Celery's settings do.
 */
import type { TaskRoutes } from '../runtime/client/routes.js';
import { type Diagnostic, excerpt } from './diagnostics.js';
import { evaluate } from './evaluate.js';
import type { AppStatement, ConstExpr, ExtractedModule } from './extracted.js';
import type { JsonValue } from './model.js';
import type { Scope } from './scope.js';

export interface AppConfig {
  /** `task_default_queue`, when set to a string the generator could read. */
  readonly defaultQueue: string | null;
  /** `task_routes` as runtime/client/routes.ts takes them; empty when none were found. */
  readonly routes: readonly RouterEntry[];
  readonly diagnostics: readonly Diagnostic[];
}

/** One router of the list: pairs in source order (RegExp keys are Python `re.compile` patterns). */
export type RouterEntry = readonly (readonly [string | RegExp, string | { readonly [key: string]: JsonValue }])[];

interface Located {
  readonly expr: ConstExpr;
  readonly module: ExtractedModule;
}

/** Config module names given to `config_from_object`, so project.ts can read them too. */
export function configModules(m: ExtractedModule): string[] {
  const out: string[] = [];
  for (const s of m.appStatements) {
    if (s.kind === 'config-from-object' && s.value.kind === 'literal' && typeof s.value.value === 'string') out.push(s.value.value.split(':')[0]!);
  }
  return out;
}

/** Finds the app among `modules` (in the order read) and its routing settings. */
export function readAppConfig(modules: readonly ExtractedModule[], scope: Scope): AppConfig {
  const diagnostics: Diagnostic[] = [];
  const appModule = modules.find((m) => m.appStatements.some((s) => s.kind === 'app'));
  if (!appModule) return { defaultQueue: null, routes: [], diagnostics };
  const appVar = appModule.appStatements.find((s) => s.kind === 'app')!.variable;
  /** Whether `variable`, in module `m`, is the app (defined there or imported from its module). */
  const isApp = (m: ExtractedModule, variable: string): boolean => {
    if (m === appModule) return variable === appVar;
    const b = scope.resolve(m.module, variable);
    return b !== null && b.kind === 'constant' && b.module === appModule && b.name === appVar;
  };
  const settings = new Map<string, Located>();
  const changes: [string, Located][] = [];
  for (const m of modules) {
    for (const s of m.appStatements) {
      if (s.kind === 'app' || !isApp(m, s.variable)) continue;
      if (s.kind === 'conf') changes.push([s.key, { expr: s.value, module: m }]);
      else fromObject(s, m);
    }
  }
  function fromObject(s: Extract<AppStatement, { kind: 'config-from-object' }>, m: ExtractedModule): void {
    let config: ExtractedModule | undefined;
    if (s.value.kind === 'literal' && typeof s.value.value === 'string') config = scope.module(s.value.value.split(':')[0]!);
    else if (s.value.kind === 'name') {
      const b = scope.resolve(m.module, s.value.name);
      if (b?.kind === 'module') config = b.module;
    }
    if (!config) return;
    for (const key of ['task_routes', 'task_default_queue', 'CELERY_TASK_ROUTES', 'CELERY_DEFAULT_QUEUE']) {
      if (Object.hasOwn(config.constants, key)) settings.set(key.startsWith('CELERY_') ? (key === 'CELERY_DEFAULT_QUEUE' ? 'task_default_queue' : 'task_routes') : key, { expr: config.constants[key]!, module: config });
    }
  }
  for (const [key, located] of changes) settings.set(key, located);

  let defaultQueue: string | null = null;
  const dq = settings.get('task_default_queue');
  if (dq) {
    const v = evaluate(dq.expr, dq.module.module, scope);
    if (v.ok && typeof v.value === 'string') defaultQueue = v.value;
    else diagnostics.push(warnAt(dq, `task_default_queue '${excerpt(dq.expr.text)}' cannot be resolved; the TypeScript side will publish to its own default queue`));
  }
  const routes: RouterEntry[] = [];
  const tr = settings.get('task_routes');
  if (tr) {
    const top = deref(tr, scope);
    const items = asList(top.expr);
    const list = items ? items.map((expr) => deref({ expr, module: top.module }, scope)) : [top];
    for (const router of list) {
      const entry = routerEntry(router, scope, diagnostics);
      if (entry) routes.push(entry);
    }
  }
  return { defaultQueue, routes, diagnostics };
}

/** The runtime's shape of the routes read. */
export function taskRoutes(config: AppConfig): TaskRoutes {
  return config.routes.map((r) => r.map(([k, v]) => [k, v] as const));
}

/** Follows a name to the expression of the constant it names (`task_routes = ROUTES`). */
function deref(located: Located, scope: Scope, depth = 0): Located {
  const { expr, module } = located;
  if (expr.kind !== 'name' || depth > 64) return located;
  const b = scope.resolve(module.module, expr.name);
  return b?.kind === 'constant' && b.rest.length === 0 ? deref({ expr: b.expr, module: b.module }, scope, depth + 1) : located;
}

function routerEntry(router: Located, scope: Scope, diagnostics: Diagnostic[]): RouterEntry | null {
  const { expr, module } = router;
  let pairs: (readonly [ConstExpr, ConstExpr])[] | null = null;
  const items = asList(expr)?.map(asList);
  if (expr.kind === 'dict') pairs = expr.entries.map(([k, v]) => [k, v]);
  else if (expr.kind === 'literal' && expr.value !== null && typeof expr.value === 'object' && !Array.isArray(expr.value)) {
    pairs = Object.entries(expr.value).map(([k, v]) => [literalExpr(k, expr), literalExpr(v, expr)]);
  } else if (items && items.every((i) => i?.length === 2)) {
    pairs = items.map((i) => [i![0]!, i![1]!]);
  }
  if (!pairs) {
    diagnostics.push(warnAt(router, `router '${excerpt(expr.text)}' is not a literal mapping; the TypeScript side will not route by it`));
    return null;
  }
  const out: [string | RegExp, string | { [key: string]: JsonValue }][] = [];
  for (const [k, v] of pairs) {
    const key = routeKey(k, module, scope);
    const value = evaluate(v, module.module, scope);
    const fits = value.ok && (typeof value.value === 'string' || (value.value !== null && typeof value.value === 'object' && !Array.isArray(value.value)));
    if (key === null || !fits) {
      const what = key === null ? k : v;
      diagnostics.push(warnAt({ expr: what, module }, `route '${excerpt(k.text)}: ${excerpt(v.text)}' cannot be resolved ('${excerpt(what.text)}'); the TypeScript side will not route by it`));
      continue;
    }
    out.push([key, value.value as string | { [key: string]: JsonValue }]);
  }
  return out;
}

/** A string key (exact name or glob) or `re.compile(pattern[, flags])` as a RegExp; null if neither. */
function routeKey(k: ConstExpr, module: ExtractedModule, scope: Scope): string | RegExp | null {
  if (k.kind === 'call' && /(^|\.)compile$/.test(k.callee) && k.args[0]) {
    const pattern = evaluate(k.args[0], module.module, scope);
    if (!pattern.ok || typeof pattern.value !== 'string') return null;
    const flags = k.args[1] ?? k.keywords['flags'];
    const ignoreCase = flags !== undefined && /\b(I|IGNORECASE)\b/.test(flags.text);
    if (flags !== undefined && !ignoreCase) return null;
    return pythonRegExp(pattern.value, ignoreCase ? 'i' : '');
  }
  const v = evaluate(k, module.module, scope);
  return v.ok && typeof v.value === 'string' ? v.value : null;
}

/** A Python `re` pattern as a JavaScript RegExp (named groups respelled); null when JavaScript refuses it. */
export function pythonRegExp(pattern: string, flags: string): RegExp | null {
  const js = pattern
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  try {
    return new RegExp(js, flags);
  } catch {
    return null;
  }
}

function literalExpr(value: JsonValue, at: ConstExpr): ConstExpr {
  return { kind: 'literal', value, text: typeof value === 'string' ? value : JSON.stringify(value), span: at.span };
}

/** A list or tuple's items, whether written with constants (`list`) or all literal. */
function asList(expr: ConstExpr): readonly ConstExpr[] | null {
  if (expr.kind === 'list') return expr.items;
  if (expr.kind === 'literal' && Array.isArray(expr.value)) return expr.value.map((v) => literalExpr(v, expr));
  return null;
}

function warnAt(located: Located, message: string): Diagnostic {
  return { file: located.module.file, ...located.expr.span, severity: 'warning', code: 'unresolved-route', message };
}
