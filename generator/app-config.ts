/**
 * The Celery app's routing configuration, read from the modules a run followed: the
 * `Celery(...)` app (also behind `proj/__init__.py` → `proj/celery.py`), its
 * `task_default_queue` and literal `task_routes` from `app.conf.task_routes = ...`,
 * `app.conf.update(...)` and the module or class given to `app.config_from_object(...)`
 * (for `'django.conf:settings'`, the module DJANGO_SETTINGS_MODULE names), under the
 * names Celery looks up: `namespace='CELERY'` reads `CELERY_TASK_ROUTES`, and Celery 3's
 * `CELERY_ROUTES` still counts. Explicit `app.conf` changes win over the config object,
 * as Celery's settings do. A config object that cannot be found is a warning at it.
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

/** The module behind `config_from_object('django.conf:settings')`: DJANGO_SETTINGS_MODULE as this module sets it. */
function djangoSettingsModule(m: ExtractedModule): ConstExpr | null {
  let value: ConstExpr | null = null;
  for (const s of m.appStatements) if (s.kind === 'environ' && s.key === 'DJANGO_SETTINGS_MODULE') value = s.value;
  return value;
}

/** `'proj.celeryconfig'` → that module; `'django.conf:settings'` → the Django settings module; `'mod:attr'` → `mod.attr`. */
function configObjectName(written: string, m: ExtractedModule): { name: string } | { django: ConstExpr | null } {
  const [mod, attr] = written.split(':', 2) as [string, string | undefined];
  const name = attr === undefined ? mod : `${mod}.${attr}`;
  return name === 'django.conf.settings' ? { django: djangoSettingsModule(m) } : { name };
}

/** Config module names given to `config_from_object` (the Django settings module for `'django.conf:settings'`), so project.ts reads them too. */
export function configModules(m: ExtractedModule): string[] {
  const out: string[] = [];
  for (const s of m.appStatements) {
    if (s.kind !== 'config-from-object' || s.value.kind !== 'literal' || typeof s.value.value !== 'string') continue;
    const target = configObjectName(s.value.value, m);
    if ('name' in target) out.push(target.name);
    else if (target.django?.kind === 'literal' && typeof target.django.value === 'string') out.push(target.django.value);
  }
  return out;
}

/** The setting names Celery looks up for `key`, in its order: the namespaced name, the name itself, the pre-4.0 name. */
export function settingNames(key: SettingKey, namespace: string | null): string[] {
  const names = [key, OLD_NAMES[key]];
  if (namespace === null) return names;
  // Celery's ConfigurationView: prefix = namespace.rstrip('_') + '_', matched to its case.
  const prefix = `${namespace.replace(/_+$/, '')}_`;
  const upper = prefix !== prefix.toLowerCase() && prefix === prefix.toUpperCase();
  const namespaced = `${prefix}${key}`;
  return [upper ? namespaced.toUpperCase() : namespaced.toLowerCase(), ...names];
}

type SettingKey = 'task_routes' | 'task_default_queue';
const SETTING_KEYS: readonly SettingKey[] = ['task_routes', 'task_default_queue'];
/** Celery 3's names, which Celery 5 still reads (celery/app/defaults.py: `celery_{0}`). */
const OLD_NAMES: Readonly<Record<SettingKey, string>> = { task_routes: 'CELERY_ROUTES', task_default_queue: 'CELERY_DEFAULT_QUEUE' };

/** Finds the app among `modules` (in the order read) and its routing settings. */
export function readAppConfig(modules: readonly ExtractedModule[], scope: Scope): AppConfig {
  const diagnostics: Diagnostic[] = [];
  const appModule = modules.find((m) => m.appStatements.some((s) => s.kind === 'app'));
  if (!appModule) return { defaultQueue: null, routes: [], diagnostics };
  const app = appModule.appStatements.find((s) => s.kind === 'app')!;
  const appVar = app.variable;
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
      if (s.kind === 'app' || s.kind === 'environ' || !isApp(m, s.variable)) continue;
      if (s.kind === 'conf') changes.push([s.key, { expr: s.value, module: m }]);
      else fromObject(s, m);
    }
  }
  function fromObject(s: Extract<AppStatement, { kind: 'config-from-object' }>, m: ExtractedModule): void {
    const target = configTarget(s.value, m, scope);
    if ('why' in target) {
      diagnostics.push(warnAt({ expr: s.value, module: m }, `${target.why}; its task_routes and task_default_queue are not read (give them to the TypeScript app as taskRoutes and defaultQueue)`));
      return;
    }
    // config_from_object's namespace=, else the app's (Celery: `namespace or self.namespace`).
    const given: Located | null = s.namespace ? { expr: s.namespace, module: m } : app.namespace ? { expr: app.namespace, module: appModule! } : null;
    let namespace: string | null = null;
    if (given) {
      const v = evaluate(given.expr, given.module.module, scope);
      if (v.ok && typeof v.value === 'string') namespace = v.value;
      else if (!(v.ok && v.value === null)) {
        diagnostics.push(warnAt(given, `namespace '${excerpt(given.expr.text)}' cannot be resolved; the config's task_routes and task_default_queue are not read`));
        return;
      }
    }
    for (const key of SETTING_KEYS) {
      for (const name of settingNames(key, namespace)) {
        const b = scope.resolve(target.module.module, `${target.qualifier}${name}`, 'value');
        if (b?.kind === 'constant' && b.rest.length === 0) {
          settings.set(key, { expr: b.expr, module: b.module });
          break;
        }
      }
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

/**
 * What `config_from_object(value)` reads settings from: a module read (`qualifier` empty) or
 * a class in one (`qualifier` 'Config.'), or why it cannot be told.
 */
function configTarget(value: ConstExpr, m: ExtractedModule, scope: Scope): { module: ExtractedModule; qualifier: string } | { why: string } {
  let binding: ReturnType<Scope['resolve']>;
  if (value.kind === 'literal' && typeof value.value === 'string') {
    const target = configObjectName(value.value, m);
    if ('django' in target) {
      const settings = target.django;
      if (settings === null) return { why: `the Django settings module behind '${excerpt(value.value)}' is not named in ${m.file} (no os.environ.setdefault('DJANGO_SETTINGS_MODULE', ...))` };
      const name = evaluate(settings, m.module, scope);
      if (!name.ok || typeof name.value !== 'string') return { why: `DJANGO_SETTINGS_MODULE '${excerpt(settings.text)}' cannot be resolved` };
      const module = scope.module(name.value);
      if (module) return { module, qualifier: '' };
      // configModules follows a literal name only (it runs before names can be resolved).
      return settings.kind === 'literal'
        ? { why: `the Django settings module '${name.value}' was not found under the import root` }
        : { why: `the Django settings module '${name.value}' is named through '${excerpt(settings.text)}', which is not followed to read it; write the name as a string in os.environ.setdefault` };
    }
    binding = scope.resolveAbsolute(target.name);
  } else if (value.kind === 'name') {
    binding = scope.resolve(m.module, value.name);
  } else {
    return { why: `config object '${excerpt(value.text)}' cannot be resolved` };
  }
  if (binding?.kind === 'module') return { module: binding.module, qualifier: '' };
  if (binding?.kind === 'classdef') return { module: binding.module, qualifier: `${binding.def.name}.` };
  if (binding?.kind === 'class') return { module: binding.module, qualifier: `${binding.cls.name}.` };
  const written = value.kind === 'literal' && typeof value.value === 'string' ? value.value : value.text;
  return { why: `config object '${excerpt(written)}' is not a module or class among the modules read` };
}

/** The runtime's shape of the routes read. */
export function taskRoutes(config: AppConfig): TaskRoutes {
  return config.routes.map((r) => r.map(([k, v]) => [k, v] as const));
}

/** Follows a name to the expression of the constant it names (`task_routes = ROUTES`). */
function deref(located: Located, scope: Scope, depth = 0): Located {
  const { expr, module } = located;
  if (expr.kind !== 'name' || depth > 64) return located;
  const b = scope.resolve(module.module, expr.name, 'value');
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
