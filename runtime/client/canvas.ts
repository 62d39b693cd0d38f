/**
 * Canvas: signatures, chains, groups, callbacks and errbacks as Celery 5.2 puts them on
 * the wire (protocol.md §6), for both sides:
 * - the client builds typed signatures (`signature`, `step`, `immutable`) and applies
 *   `chain(...)` (one message, the rest in `embed.chain` in reverse order, each step with
 *   a pre-assigned task id and our reply_to) and `group(...)` (one message per member,
 *   header `group`);
 * - the worker continues what it receives: after SUCCESS it publishes the next chain step
 *   and the callbacks with the result prepended (unless immutable), parent/root ids set; after
 *   FAILURE it reports the same FAILURE for every remaining chain step that has a task id
 *   (so a waiting `chain.get()` raises rather than hangs) and publishes the errbacks with
 *   the failed task's id prepended.
 *
 * Chords: a chord's join needs a key-value result backend. With the Redis backend the
 * worker takes part in Celery's native join (redis/backend.ts `onChordPartReturn`) and
 * `chord(...)` is applied from TS; with rpc:// it is refused, as Python refuses it
 * ("The rpc result backend does not support chords!").
 */
import { randomUUID } from 'node:crypto';
import type { ApplyOptions, AsyncResult, TaskClient } from '../app/api.js';
import type { Celery } from '../app/celery.js';
import type { ResultTracker } from './publisher.js';
import { DEFAULT_QUEUE, type Route, type TaskRouter, resolveRoute } from './routes.js';
import { CeleryGenError } from '../protocol/errors.js';
import type { TaskMessageInput, TaskRequest } from '../protocol/message.js';
import type { ChordTask } from '../app/broker.js';
import { isPlainObject } from '../protocol/message.js';
import type { JsonValue, TaskSpec } from '../protocol/spec.js';

/** A signature as it travels (protocol.md §6.1). Unknown keys are kept when forwarding. */
export interface SignatureJson {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
  subtask_type: string | null;
  immutable: boolean;
  [key: string]: unknown;
}

/** Per-signature options, Python's `.set(...)` spelled as ApplyOptions. */
export type SignatureOptions = Pick<ApplyOptions, 'queue' | 'exchange' | 'routingKey' | 'priority' | 'countdown' | 'expires' | 'timeLimit' | 'softTimeLimit' | 'taskId'>;

/** A task call to be made later; `R` is its result type. */
export interface Signature<R = unknown> {
  readonly json: SignatureJson;
  /** Type-only. */
  readonly __result?: R;
}

/** A chain step: its task takes the previous step's result (`In`) as first argument. */
export interface Step<In, R> extends Signature<R> {
  /** Type-only, contravariant in `In`. */
  readonly __input?: (value: In) => void;
}

/** A typed client or the spec it was bound from. */
type TaskSource<A extends unknown[], K extends object, R> = TaskClient<A, K, R> | TaskSpec<A, K, R>;

function specOf(source: { readonly name: string }): TaskSpec | undefined {
  if ('params' in source && 'options' in source) return source as unknown as TaskSpec;
  const spec = (source as { spec?: unknown }).spec;
  return typeof spec === 'object' && spec !== null ? (spec as TaskSpec) : undefined;
}

/**
 * The spec of the task a signature calls, kept beside the signature rather than in it:
 * Python's own `b.s()` carries no routing, so whoever publishes a step routes it, and the
 * source's default queue written into the options would beat the publisher's routes (a
 * Python worker continuing a chain, its runtime-only task_routes; this client, its
 * taskRoutes). This client's own publish of the signature routes by it ({@link signatureRoute}).
 */
const signatureSpecs = new WeakMap<SignatureJson, TaskSpec>();

function optionsJson(options: SignatureOptions, spec: TaskSpec | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // As Python applies them whoever publishes: the signature's own option, then the
  // decorator's, then the route read from the source (the same route Python's router has).
  const queue = options.queue ?? spec?.options.queue ?? spec?.route?.queue;
  if (queue !== undefined) out['queue'] = queue;
  if (options.exchange !== undefined) out['exchange'] = options.exchange;
  if (options.routingKey !== undefined) out['routing_key'] = options.routingKey;
  const priority = options.priority ?? spec?.options.priority;
  if (priority !== undefined) out['priority'] = priority;
  if (options.countdown !== undefined) out['countdown'] = options.countdown;
  if (options.expires !== undefined) out['expires'] = options.expires instanceof Date ? options.expires.toISOString() : options.expires;
  if (options.timeLimit !== undefined) out['time_limit'] = options.timeLimit;
  if (options.softTimeLimit !== undefined) out['soft_time_limit'] = options.softTimeLimit;
  if (options.taskId !== undefined) out['task_id'] = options.taskId;
  return out;
}

function makeSignature(name: string, args: readonly unknown[], kwargs: object | undefined, options: Record<string, unknown>, immutable: boolean, spec?: TaskSpec): SignatureJson {
  const json: SignatureJson = { task: name, args: [...args], kwargs: { ...(kwargs as Record<string, unknown> | undefined) }, options, subtask_type: null, immutable };
  if (spec) signatureSpecs.set(json, spec);
  return json;
}

/** Python's `task.s(*args, **kwargs)` with every argument given. */
export function signature<A extends unknown[], K extends object, R>(task: TaskSource<A, K, R>, args: A, kwargs?: Partial<K>, options: SignatureOptions = {}): Signature<R> {
  return { json: makeSignature(task.name, args, kwargs, optionsJson(options, specOf(task)), false, specOf(task)) };
}

/** A chain step / callback `task.s(*rest)`: the previous result becomes the first argument. */
export function step<In, Rest extends unknown[], K extends object, R>(
  task: TaskSource<[In, ...Rest], K, R>,
  args: Rest,
  kwargs?: Partial<K>,
  options: SignatureOptions = {},
): Step<In, R> {
  return { json: makeSignature(task.name, args, kwargs, optionsJson(options, specOf(task)), false, specOf(task)) };
}

/** Python's `task.si(...)`: the previous result is not passed. */
export function immutable<A extends unknown[], K extends object, R>(task: TaskSource<A, K, R>, args: A, kwargs?: Partial<K>, options: SignatureOptions = {}): Step<unknown, R> {
  return { json: makeSignature(task.name, args, kwargs, optionsJson(options, specOf(task)), true, specOf(task)) };
}

/** An errback: Python old-style errbacks receive the failed task's id first. */
export function errback<Rest extends unknown[], K extends object, R>(
  task: TaskSource<[taskId: string, ...rest: Rest], K, R>,
  args: Rest,
  kwargs?: Partial<K>,
  options: SignatureOptions = {},
): Step<string, R> {
  return step(task as TaskSource<[string, ...Rest], K, R>, args, kwargs, options);
}

/**
 * What applying a canvas needs from the app (the Celery class provides it): the
 * publisher, and the result tracker whose reply_to the steps carry.
 */
export interface CanvasApp {
  readonly publisher: { readonly origin: string; publish(input: TaskMessageInput, route: Route): Promise<void> };
  resultTracker(): ResultTracker;
  readonly options: { readonly defaultQueue?: string; readonly backend?: string };
  /** The app's `taskRoutes`, compiled; absent when it has none. */
  taskRouter?(): TaskRouter | undefined;
}

/** A signature's own routing options (`.set(queue=…)`, or what it carried on the wire), as ApplyOptions. */
function ownRouting(sig: SignatureJson): ApplyOptions {
  const o = sig.options;
  const queue = text(o['queue']);
  const exchange = typeof o['exchange'] === 'string' ? o['exchange'] : undefined;
  const routingKey = text(o['routing_key']);
  return { ...(queue === undefined ? {} : { queue }), ...(exchange === undefined ? {} : { exchange }), ...(routingKey === undefined ? {} : { routingKey }) };
}

/**
 * Where a signature is published: its own routing options, then sendTask's order for its
 * task (resolveRoute: decorator, source route, the app's taskRoutes, the source's default
 * queue, `defaultQueue`), key by key as Celery merges them. `spec` is the task's, when the
 * publisher knows it; a signature this client built carries its own.
 */
export function signatureRoute(sig: SignatureJson, defaultQueue: string, router?: TaskRouter, spec: TaskSpec | undefined = signatureSpecs.get(sig)): Route {
  return resolveRoute(ownRouting(sig), spec, defaultQueue, router, sig.task);
}

/** Options when applying a signature: Python's `link` / `link_error`. */
export interface CanvasApplyOptions {
  readonly link?: Signature | readonly Signature[];
  readonly linkError?: Signature | readonly Signature[];
}

async function publishSignature(
  app: CanvasApp,
  sig: SignatureJson,
  extra: { chain?: SignatureJson[] | null; group?: string; groupIndex?: number | null },
): Promise<string> {
  const route = signatureRoute(sig, app.options.defaultQueue ?? DEFAULT_QUEUE, app.taskRouter?.());
  const input = signatureMessage(sig, [], null, extra.chain ?? null);
  const withGroup = extra.group === undefined ? input : { ...input, group: extra.group, groupIndex: extra.groupIndex ?? null };
  await app.publisher.publish({ ...withGroup, origin: app.publisher.origin }, route);
  return input.id;
}

/** Prepares a signature for publishing from this client: task id and reply_to assigned, link/link_error attached. */
function own(sig: SignatureJson, replyTo: string, options: CanvasApplyOptions = {}): SignatureJson {
  const json: SignatureJson = { ...sig, options: { ...sig.options } };
  const spec = signatureSpecs.get(sig);
  if (spec) signatureSpecs.set(json, spec);
  if (typeof json.options['task_id'] !== 'string') json.options['task_id'] = randomUUID();
  if (json.options['reply_to'] === undefined) json.options['reply_to'] = replyTo;
  const link = embedList(options.link);
  const linkError = embedList(options.linkError);
  if (link) json.options['link'] = link;
  if (linkError) json.options['link_error'] = linkError;
  return json;
}

/** Python's `sig.apply_async(link=…, link_error=…)`. */
export async function applySignature<R>(app: CanvasApp, sig: Signature<R>, options: CanvasApplyOptions = {}): Promise<AsyncResult<R>> {
  const tracker = app.resultTracker();
  const json = own(sig.json, await tracker.ensure(), options);
  const result = tracker.track<R>(json.options['task_id'] as string);
  try {
    await publishSignature(app, json, {});
  } catch (error) {
    tracker.forget(json.options['task_id'] as string);
    throw error;
  }
  return result;
}

/** A chain to apply: `chain(a, b, c).applyAsync(app)` resolves with the last step's AsyncResult. */
export class Chain<R> {
  readonly steps: readonly Signature[];
  constructor(steps: readonly Signature[]) {
    if (steps.length === 0) throw new CeleryGenError('EMPTY_CHAIN', 'a chain needs at least one signature');
    this.steps = steps;
  }

  /** The wire form of the chain: the first step, and the rest in reverse order with task ids assigned. */
  prepare(replyTo: string): { first: SignatureJson; rest: SignatureJson[]; lastId: string } {
    const jsons = this.steps.map((s) => own(s.json, replyTo));
    const [first, ...rest] = jsons;
    return { first: first!, rest: rest.reverse(), lastId: jsons[jsons.length - 1]!.options['task_id'] as string };
  }

  /** One message for the first step; the rest ride in `embed.chain`. The result is the last step's. */
  async applyAsync(app: CanvasApp): Promise<AsyncResult<R>> {
    const tracker = app.resultTracker();
    const { first, rest, lastId } = this.prepare(await tracker.ensure());
    const result = tracker.track<R>(lastId);
    try {
      await publishSignature(app, first, { chain: rest });
    } catch (error) {
      tracker.forget(lastId);
      throw error;
    }
    return result;
  }
}

export function chain<R1>(a: Signature<R1>): Chain<R1>;
export function chain<R1, R2>(a: Signature<R1>, b: Step<R1, R2>): Chain<R2>;
export function chain<R1, R2, R3>(a: Signature<R1>, b: Step<R1, R2>, c: Step<R2, R3>): Chain<R3>;
export function chain<R1, R2, R3, R4>(a: Signature<R1>, b: Step<R1, R2>, c: Step<R2, R3>, d: Step<R3, R4>): Chain<R4>;
export function chain<R1, R2, R3, R4, R5>(a: Signature<R1>, b: Step<R1, R2>, c: Step<R2, R3>, d: Step<R3, R4>, e: Step<R4, R5>): Chain<R5>;
export function chain<R1, R2, R3, R4, R5, R6>(
  a: Signature<R1>,
  b: Step<R1, R2>,
  c: Step<R2, R3>,
  d: Step<R3, R4>,
  e: Step<R4, R5>,
  f: Step<R5, R6>,
): Chain<R6>;
export function chain(...steps: Signature[]): Chain<unknown> {
  return new Chain(steps);
}

type ResultsOf<T extends readonly Signature[]> = { -readonly [I in keyof T]: T[I] extends Signature<infer R> ? R : never };

/** The results of a group's members; `get()` resolves with all of them in order, or rejects with the first failure. */
export class GroupResult<T extends unknown[]> {
  readonly id: string;
  readonly results: readonly AsyncResult<unknown>[];
  constructor(id: string, results: readonly AsyncResult<unknown>[]) {
    this.id = id;
    this.results = results;
  }
  get(options: { timeout?: number } = {}): Promise<T> {
    return Promise.all(this.results.map((r) => r.get(options))) as Promise<T>;
  }
}

export class Group<T extends unknown[]> {
  readonly members: readonly Signature[];
  constructor(members: readonly Signature[]) {
    this.members = members;
  }

  /** One message per member, all with header `group` (5.2.6 plain groups carry group_index null). */
  async applyAsync(app: CanvasApp): Promise<GroupResult<T>> {
    const id = randomUUID();
    const tracker = app.resultTracker();
    const replyTo = await tracker.ensure();
    const results: AsyncResult<unknown>[] = [];
    for (const member of this.members) {
      const json = own(member.json, replyTo);
      results.push(tracker.track(json.options['task_id'] as string));
      await publishSignature(app, json, { group: id, groupIndex: null });
    }
    return new GroupResult<T>(id, results);
  }
}

export function group<const T extends readonly Signature[]>(...members: T): Group<ResultsOf<T>> {
  return new Group<ResultsOf<T>>(members);
}

/**
 * `chord(header, body)`: the header runs as a group, the body gets the list of their
 * results. Needs a key-value result backend (Redis), as in Python; applied through the
 * app's backend (app/broker.ts), and refused on rpc:// with CHORD_UNSUPPORTED.
 */
export class Chord<R> {
  readonly header: readonly Signature[];
  readonly body: Step<unknown[], R>;
  constructor(header: readonly Signature[], body: Step<unknown[], R>) {
    this.header = header;
    this.body = body;
  }

  async applyAsync(app: Celery): Promise<AsyncResult<R>> {
    // Each task goes through sendTask with its spec, which routes it as any call.
    const task = (sig: Signature): ChordTask => {
      const priority = num(sig.json.options['priority']);
      const spec = signatureSpecs.get(sig.json);
      return {
        name: sig.json.task,
        args: sig.json.args,
        kwargs: sig.json.kwargs,
        ...(spec === undefined ? {} : { spec }),
        options: { ...ownRouting(sig.json), ...(priority !== undefined ? { priority } : {}) },
      };
    };
    return app.sendChord<R>(this.header.map(task), task(this.body));
  }
}

export function chord<const T extends readonly Signature[], R>(header: T, body: Step<ResultsOf<T>, R>): Chord<R> {
  return new Chord<R>(header, body as unknown as Step<unknown[], R>);
}

// ---------------------------------------------------------------------------------------
// Worker side: what to publish after a task finished.

/** A message the worker publishes to continue a canvas. */
export interface Continuation {
  readonly input: Omit<TaskMessageInput, 'origin'>;
  readonly route: Route;
}

/** Reads a signature from an embed list entry (already shape-checked by the decoder). */
export function asSignature(value: unknown): SignatureJson | null {
  if (!isPlainObject(value) || typeof value['task'] !== 'string') return null;
  return {
    ...value,
    task: value['task'],
    args: Array.isArray(value['args']) ? value['args'] : [],
    kwargs: isPlainObject(value['kwargs']) ? value['kwargs'] : {},
    options: isPlainObject(value['options']) ? value['options'] : {},
    subtask_type: typeof value['subtask_type'] === 'string' ? value['subtask_type'] : null,
    immutable: value['immutable'] === true,
  };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function signatureList(value: unknown): SignatureJson[] | null {
  if (value === undefined || value === null) return null;
  const list = Array.isArray(value) ? value : [value];
  const sigs = list.map(asSignature).filter((s): s is SignatureJson => s !== null);
  return sigs.length === 0 ? null : sigs;
}

/**
 * `sig.apply_async(args_prefix, parent_id=…, root_id=…, chain=…)`: the message for a
 * signature, with its options mapped (task_id, reply_to, queue/exchange/routing_key,
 * priority, countdown/eta/expires, time limits, headers, link/link_error, group). Where it
 * goes is the publisher's decision ({@link signatureRoute}).
 */
export function signatureMessage(
  sig: SignatureJson,
  prefix: readonly unknown[],
  parent: { readonly id: string; readonly rootId: string | null } | null,
  chainRest: readonly SignatureJson[] | null,
  now: number = Date.now(),
): Omit<TaskMessageInput, 'origin'> {
  if (sig.subtask_type !== null && sig.subtask_type !== undefined) {
    throw new CeleryGenError('UNSUPPORTED_CANVAS', `cannot continue with a ${sig.subtask_type} signature (${sig.task}) from a TS worker yet`);
  }
  const o = sig.options;
  const countdown = num(o['countdown']);
  const eta = text(o['eta']) ?? (countdown !== undefined ? new Date(now + countdown * 1000) : null);
  const expiresOption = o['expires'];
  const expires =
    typeof expiresOption === 'number' ? new Date(now + expiresOption * 1000) : typeof expiresOption === 'string' ? expiresOption : null;
  const priority = num(o['priority']);
  const headers = isPlainObject(o['headers']) ? (o['headers'] as Record<string, JsonValue>) : undefined;
  const input: Omit<TaskMessageInput, 'origin'> = {
    id: text(o['task_id']) ?? randomUUID(),
    task: sig.task,
    args: sig.immutable ? sig.args : [...prefix, ...sig.args],
    kwargs: sig.kwargs,
    replyTo: text(o['reply_to']) ?? '',
    eta,
    expires,
    timeLimit: [num(o['time_limit']) ?? null, num(o['soft_time_limit']) ?? null],
    rootId: parent === null ? null : (parent.rootId ?? parent.id),
    parentId: parent === null ? null : parent.id,
    group: text(o['group_id']) ?? null,
    groupIndex: num(o['group_index']) ?? null,
    ...(text(o['shadow']) !== undefined ? { shadow: text(o['shadow'])! } : {}),
    ignoreResult: o['ignore_result'] === true,
    embed: {
      chain: chainRest === null || chainRest.length === 0 ? null : [...chainRest],
      callbacks: signatureList(o['link']),
      errbacks: signatureList(o['link_error']),
      chord: asSignature(o['chord']),
    },
    ...(priority !== undefined && Number.isInteger(priority) ? { priority } : {}),
    ...(headers !== undefined ? { extraHeaders: headers } : {}),
  };
  return input;
}

/** How a worker routes the signatures it publishes: {@link signatureRoute} with the spec of the task, if it serves it. */
export type SignatureRouter = (sig: SignatureJson) => Route;

function continuation(sig: SignatureJson, prefix: readonly unknown[], parent: { readonly id: string; readonly rootId: string | null }, chainRest: readonly SignatureJson[] | null, routeOf: SignatureRouter): Continuation {
  return { input: signatureMessage(sig, prefix, parent, chainRest), route: routeOf(sig) };
}

/** Everything to publish after SUCCESS: callbacks, then the next chain step (5.2's order). */
export function successContinuations(request: TaskRequest, retval: unknown, defaultQueue: string, routeOf: SignatureRouter = (sig) => signatureRoute(sig, defaultQueue)): Continuation[] {
  const parent = { id: request.id, rootId: request.rootId };
  const out: Continuation[] = [];
  for (const raw of request.embed.callbacks ?? []) {
    const sig = asSignature(raw);
    if (sig) out.push(continuation(sig, [retval], parent, null, routeOf));
  }
  const chain = (request.embed.chain ?? []).map(asSignature).filter((s): s is SignatureJson => s !== null);
  const next = chain.pop();
  if (next) out.push(continuation(next, [retval], parent, chain, routeOf));
  return out;
}

/** Errbacks after FAILURE: old-style, `(failed task id,)` prepended (protocol.md §6.3). */
export function errbackContinuations(request: TaskRequest, defaultQueue: string, routeOf: SignatureRouter = (sig) => signatureRoute(sig, defaultQueue)): Continuation[] {
  const parent = { id: request.id, rootId: request.rootId };
  return (request.embed.errbacks ?? [])
    .map(asSignature)
    .filter((s): s is SignatureJson => s !== null)
    .map((sig) => continuation(sig, [request.id], parent, null, routeOf));
}

/** The chain steps that get the same FAILURE as the failed task (each with a task id), with their reply queues. */
export function chainFailureTargets(request: TaskRequest): { taskId: string; replyTo: string | null }[] {
  return (request.embed.chain ?? [])
    .map(asSignature)
    .filter((s): s is SignatureJson => s !== null && typeof s.options['task_id'] === 'string')
    .map((s) => ({ taskId: s.options['task_id'] as string, replyTo: text(s.options['reply_to']) ?? null }));
}

/** A signature or list of them (ApplyOptions `link` / `linkError`) as embed entries. */
export function embedList(value: Signature | readonly Signature[] | undefined): SignatureJson[] | null {
  if (value === undefined) return null;
  const list = Array.isArray(value) ? (value as readonly Signature[]) : [value as Signature];
  return list.length === 0 ? null : list.map((s) => s.json);
}
