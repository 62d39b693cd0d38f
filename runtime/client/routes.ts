/**
 * Celery's task router (`celery/app/routes.py`, Celery 5), as pure functions: which queue,
 * exchange and routing key `task_routes` gives a task name. Used by the generator (routes
 * read from the Python source, baked into the generated specs) and by the client (the app's
 * `taskRoutes` option), so both answer exactly as Python's `Router.route` would.
 *
 * - A string key containing `*` is a glob translated as `fnmatch.translate` does: matched
 *   against the whole name, `*` also crossing dots, `?` and `[...]` applying too. Any other
 *   string key is an exact task name.
 * - A RegExp key (Python's `re.compile(...)`) is applied as `re.match`: anchored at the
 *   start of the name only.
 * - Exact names are tried before patterns; patterns in the order given.
 * - A string destination is a queue name; an object is the route's options.
 * - In a list of routers, the first one that answers wins.
 */
import type { ApplyOptions } from '../app/api.js';
import type { TaskRouteOptions, TaskSpec } from '../protocol/spec.js';

/** A route's options, in Celery's spelling (`queue`, `exchange`, `routing_key`, `priority`, ...). */
export type RouteOptions = TaskRouteOptions;

/** Where a route sends a task: a queue name, or options. */
export type RouteDestination = string | RouteOptions;

/** Python's dict router (`{'proj.*': 'queue'}`); pairs or a Map when keys are RegExps. */
export type RouteMap =
  | Readonly<Record<string, RouteDestination>>
  | ReadonlyMap<string | RegExp, RouteDestination>
  | ReadonlyArray<readonly [string | RegExp, RouteDestination]>;

/** A router function: like Python's `route_task(name, args, kwargs, options, task)`, by name only. */
export type RouterFunction = (name: string) => RouteDestination | null | undefined;

/** One router, or a list of routers of which the first that answers wins (Python's `task_routes`). */
export type TaskRoutes = RouteMap | RouterFunction | ReadonlyArray<RouteMap | RouterFunction>;

/** A compiled router: `route(name)` is the first matching route's options, or null. */
export interface TaskRouter {
  route(name: string): RouteOptions | null;
}

interface CompiledMap {
  readonly exact: ReadonlyMap<string, RouteDestination>;
  readonly patterns: readonly (readonly [RegExp, RouteDestination])[];
}

/**
 * Python's `fnmatch.translate` as a JavaScript RegExp matching the whole name
 * (case-sensitive, as `re.compile` of the translation is; `.` also matches newlines).
 */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      out += '[\\s\\S]*';
      while (glob[i + 1] === '*') i++;
    } else if (c === '?') out += '[\\s\\S]';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) out += '\\[';
      else {
        let body = glob.slice(i + 1, j);
        i = j;
        const negate = body.startsWith('!');
        if (negate) body = body.slice(1);
        // Inside a class only `\`, `]`, `^` and `[` need escaping in a JavaScript pattern.
        const escaped = body.replace(/[\\\]^[]/g, (m) => (m === '-' ? m : `\\${m}`));
        out += negate ? `[^${escaped}]` : body === '' ? '(?!)' : `[${escaped}]`;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`);
}

/** `re.match`: a RegExp anchored at the start of the name only (a sticky copy, flags kept). */
function anchoredAtStart(re: RegExp): RegExp {
  const flags = re.flags.replace(/[gy]/g, '');
  return new RegExp(re.source, `${flags}y`);
}

function compileMap(map: RouteMap): CompiledMap {
  const exact = new Map<string, RouteDestination>();
  const patterns: [RegExp, RouteDestination][] = [];
  const entries: Iterable<readonly [string | RegExp, RouteDestination]> =
    map instanceof Map ? map.entries() : Array.isArray(map) ? map : Object.entries(map as Readonly<Record<string, RouteDestination>>);
  for (const [key, destination] of entries) {
    if (key instanceof RegExp) patterns.push([anchoredAtStart(key), destination]);
    else if (key.includes('*')) patterns.push([globToRegExp(key), destination]);
    // A repeated key keeps its last value, as a Python dict literal does.
    else exact.set(key, destination);
  }
  return { exact, patterns };
}

function expand(destination: RouteDestination): RouteOptions {
  return typeof destination === 'string' ? { queue: destination } : { ...destination };
}

function lookupMap(map: CompiledMap, name: string): RouteOptions | null {
  const exact = map.exact.get(name);
  if (exact !== undefined) return expand(exact);
  for (const [re, destination] of map.patterns) {
    re.lastIndex = 0;
    if (re.test(name)) return expand(destination);
  }
  return null;
}

/** Compiles `task_routes` once; patterns are translated here, not per published task. */
export function compileRoutes(routes: TaskRoutes): TaskRouter {
  const list: readonly (RouteMap | RouterFunction)[] = isRouterList(routes) ? routes : [routes as RouteMap | RouterFunction];
  const routers = list.map((r): ((name: string) => RouteOptions | null) => {
    if (typeof r === 'function') {
      return (name) => {
        const d = r(name);
        return d === null || d === undefined ? null : expand(d);
      };
    }
    const compiled = compileMap(r);
    return (name) => lookupMap(compiled, name);
  });
  return {
    route(name) {
      for (const router of routers) {
        const found = router(name);
        // Python tests `if route is not None`: an empty dict still answers.
        if (found !== null) return found;
      }
      return null;
    },
  };
}

/** A top-level array is a list of routers (as Python's `prepare` reads a list), not pairs. */
function isRouterList(routes: TaskRoutes): routes is ReadonlyArray<RouteMap | RouterFunction> {
  return Array.isArray(routes);
}

/** The first matching route's options for a task name, or null. Compiles on every call; prefer {@link compileRoutes}. */
export function routeTask(routes: TaskRoutes, name: string): RouteOptions | null {
  return compileRoutes(routes).route(name);
}

export const DEFAULT_QUEUE = 'celery';

/** Where a message goes: exchange '' and the queue name as routing key, unless told otherwise. */
export interface Route {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
}

/**
 * Celery's merge, key by key, first source that sets a key wins: the call's options, the
 * decorator's, the first matching route (routes read from the Python source, then the app's
 * `taskRoutes`), then `task_default_queue` (the source's, then the app's).
 */
export function resolveRoute(options: ApplyOptions, spec?: TaskSpec, defaultQueue: string = DEFAULT_QUEUE, router?: TaskRouter, name?: string): Route {
  const taskOptions = spec?.options ?? {};
  const routed = routeOf(spec, router, name);
  const queue = options.queue ?? taskOptions.queue ?? routed?.queue ?? spec?.defaultQueue ?? defaultQueue;
  const exchange = options.exchange ?? taskOptions.exchange ?? routed?.exchange ?? '';
  const routingKey = options.routingKey ?? taskOptions.routing_key ?? routed?.routing_key ?? queue;
  return { queue, exchange, routingKey };
}

/** The route the spec carries from the Python source, else the app's `taskRoutes` for the task's name. */
export function routeOf(spec: TaskSpec | undefined, router: TaskRouter | undefined, name: string | undefined): RouteOptions | null {
  if (spec?.route) return spec.route;
  const task = name ?? spec?.name;
  return router && task !== undefined ? router.route(task) : null;
}
