/**
 * Pure logic of the protocol-breadth features, against the captured Python messages where
 * there is one: remote-control dispatch, event bodies, ETA/expiry decisions, the retry
 * republish, canvas continuation, time limits. The interop tests (breadth-*.test.ts) prove
 * the same against the real peers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { chainFailureTargets, chain, errback, errbackContinuations, group, immutable, signature, step, successContinuations } from '../runtime/client/canvas.js';
import { ControlNode, dispatchControl, isForNode, LamportClock, parseControlRequest, RevokedSet, type ControlTarget } from '../runtime/observability/control.js';
import { EtaSchedule, etaDelayMs, isExpired } from '../runtime/protocol/eta.js';
import { eventBody, eventRoutingKey, taskFailedFields, taskReceivedFields, taskSucceededFields } from '../runtime/observability/events.js';
import { decodeTaskMessage, encodeTaskMessage, type TaskRequest } from '../runtime/protocol/message.js';
import { parseRate, TokenBucket } from '../runtime/worker/rate-limit.js';
import { MaxRetriesExceededError, raiseRetry, Retry, retryMessage } from '../runtime/worker/retry.js';
import { effectiveLimits, SoftTimeLimitExceeded, TimeLimitExceeded, withTimeLimits } from '../runtime/worker/time-limit.js';
import { TASK_SPECS } from '../fixtures/breadth/tasks.js';
import { CeleryGenError } from '../runtime/protocol/errors.js';
import { loadCapture, toIncoming } from './support/captures.js';

function target(overrides: Partial<ControlTarget> = {}): ControlTarget {
  return {
    hostname: 'ts@host',
    registered: () => ['tasks.b', 'tasks.a'],
    active: () => [],
    reserved: () => [],
    scheduled: () => [],
    totals: () => ({ 'tasks.a': 2 }),
    prefetchCount: () => 4,
    concurrency: () => 4,
    queues: () => ['q'],
    brokerInfo: () => ({ transport: 'amqp' }),
    revoked: new RevokedSet(),
    ...overrides,
  };
}

describe('remote control', () => {
  test('the captured revoke request flags the id; ping answers pong with the ticket', () => {
    const t = target();
    const node = new ControlNode(t);
    const revoke = { method: 'revoke', arguments: { task_id: '2222', terminate: false, signal: 'SIGTERM' }, destination: null, pattern: null, matcher: null };
    assert.equal(node.handle(revoke, { clock: 1 }), null, 'app.control.revoke wants no reply');
    assert.ok(t.revoked.has('2222'));
    const reply = node.handle(
      { method: 'ping', arguments: {}, destination: null, pattern: null, matcher: null, ticket: 'tk', reply_to: { exchange: 'reply.celery.pidbox', routing_key: 'oid' } },
      { clock: 10 },
    );
    assert.ok(reply && typeof reply === 'object');
    assert.deepEqual(reply.body, { 'ts@host': { ok: 'pong' } });
    assert.equal(reply.headers.ticket, 'tk');
    assert.ok(reply.headers.clock > 10, 'the Lamport clock adopts the sender clock');
    assert.equal(reply.routingKey, 'oid');
  });

  test('destination and glob patterns select nodes; unknown methods answer KeyError as kombu does', () => {
    const parse = (body: unknown) => {
      const r = parseControlRequest(body);
      assert.ok(typeof r !== 'string', String(r));
      return r;
    };
    assert.equal(isForNode(parse({ method: 'ping', destination: ['other@x'] }), 'ts@host'), false);
    assert.equal(isForNode(parse({ method: 'ping', destination: ['ts@host'] }), 'ts@host'), true);
    assert.equal(isForNode(parse({ method: 'ping', pattern: 'ts@*', matcher: 'glob' }), 'ts@host'), true);
    assert.equal(isForNode(parse({ method: 'ping', pattern: 'py@*', matcher: 'glob' }), 'ts@host'), false);
    assert.deepEqual(dispatchControl(parse({ method: 'nope' }), target(), 1), { error: "KeyError('nope')" });
    assert.deepEqual(dispatchControl(parse({ method: 'registered' }), target(), 1), ['tasks.a', 'tasks.b']);
    assert.equal(typeof parseControlRequest({ arguments: {} }), 'string');
  });

  test('revoked ids expire and the set is bounded', () => {
    let now = 0;
    const set = new RevokedSet({ max: 2, ttlSeconds: 10, now: () => now });
    set.add('a');
    set.add('b');
    set.add('c');
    assert.deepEqual(set.ids(), ['b', 'c']);
    now = 11_000;
    assert.equal(set.has('b'), false);
  });

  test('Lamport clock', () => {
    const clock = new LamportClock();
    assert.equal(clock.forward(), 1);
    assert.equal(clock.adjust(7), 8);
    assert.equal(clock.adjust(3), 9);
  });
});

describe('events', () => {
  test('bodies have the captured key order and routing keys', () => {
    // Copied from ../shared/captures (Celery 5.2.6 worker -E and client task_send_sent_event).
    const capture = JSON.parse(readFileSync(new URL('../fixtures/breadth/events-task-lifecycle.json', import.meta.url), 'utf8')) as { messages: { body_parsed: unknown }[] };
    const multi = capture.messages[1]!.body_parsed as Record<string, unknown>[];
    const received = multi[0]!;
    const request = { id: 'u', task: 'proj.tasks.add', argsrepr: '(2, 3)', kwargsrepr: '{}', rootId: 'u', parentId: null, retries: 0, eta: null, expires: null };
    const body = eventBody('task-received', taskReceivedFields(request), { hostname: 'h', pid: 1, clock: 3, timestamp: 1.5, utcoffset: 0 });
    assert.deepEqual(Object.keys(body), Object.keys(received));
    const succeeded = eventBody('task-succeeded', taskSucceededFields('u', 5, 0.01), { hostname: 'h', pid: 1, clock: 5, timestamp: 2, utcoffset: 0 });
    assert.deepEqual(Object.keys(succeeded), Object.keys(multi[2]!));
    assert.equal(succeeded['result'], '5', 'the result is a repr string');
    assert.equal(taskFailedFields('u', 'ValueError', ['bad'], 'tb')['exception'], "ValueError('bad')");
    assert.equal(eventRoutingKey('worker-heartbeat'), 'worker.heartbeat');
  });
});

describe('eta and expires', () => {
  test('delay and expiry from ISO headers', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(etaDelayMs('2026-01-01T00:00:02.500000+00:00', now), 2500);
    assert.equal(etaDelayMs('2025-12-31T00:00:00+00:00', now), 0);
    assert.equal(etaDelayMs(null, now), 0);
    assert.equal(isExpired('2025-12-31T23:59:59+00:00', now), true);
    assert.equal(isExpired('2026-01-01T00:00:01+00:00', now), false);
    assert.equal(isExpired(null, now), false);
  });

  test('the schedule releases in due order and cancels revoked entries', async () => {
    const released: string[] = [];
    const schedule = new EtaSchedule<string>((item) => released.push(item));
    const now = Date.now();
    schedule.hold('b', 'b', now + 60);
    schedule.hold('a', 'a', now + 20);
    schedule.hold('c', 'c', now + 40);
    assert.equal(schedule.cancel('c'), 'c');
    assert.deepEqual(schedule.entries().map((e) => e.key), ['a', 'b']);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(released, ['a', 'b']);
    assert.equal(schedule.size, 0);
  });
});

function decoded(capture: string, index = 0): TaskRequest {
  return decodeTaskMessage(toIncoming(loadCapture(capture).messages![index]!));
}

describe('retry', () => {
  test('republishes as Python did (captured): same id, retries+1, parent_id = own id, same route and reply_to', () => {
    const capture = loadCapture('celery-5.2/v2-task-retry-republished.json');
    const original = decoded('celery-5.2/v2-task-retry-republished.json', 0);
    const python = capture.messages![1]!;
    let retry: Retry | undefined;
    try {
      raiseRetry(original, {}, { countdown: 1, exc: new Error('transient') });
    } catch (error) {
      assert.ok(error instanceof Retry);
      retry = error;
    }
    const { input, route } = retryMessage(original, retry!, 'gen1@host');
    const ours = encodeTaskMessage(input);
    const theirs = python.headers!;
    for (const key of ['id', 'task', 'retries', 'root_id', 'parent_id', 'argsrepr', 'kwargsrepr', 'group', 'expires', 'timelimit', 'shadow']) {
      assert.deepEqual(ours.headers[key], theirs[key], key);
    }
    assert.ok(typeof ours.headers['eta'] === 'string' && Math.abs(Date.parse(ours.headers['eta']) - Date.now() - 1000) < 500);
    assert.deepEqual(route, { queue: 'cap_ev', exchange: 'cap_tee', routingKey: 'cap_ev' });
    assert.equal(ours.properties.replyTo, python.properties.reply_to);
    assert.equal(ours.properties.priority, python.properties.priority);
    assert.deepEqual(JSON.parse(ours.body.toString('utf8')), python.body_parsed);
  });

  test('max_retries from the decorator; exhausted retries raise exc or MaxRetriesExceededError', () => {
    const request = { id: 'i', task: 'tasks.flaky', retries: 2, args: [5], kwargs: {} };
    const exc = new Error('last');
    assert.throws(() => raiseRetry(request, TASK_SPECS.flaky.options, { exc }), (e) => e === exc);
    assert.throws(() => raiseRetry(request, TASK_SPECS.flaky.options), MaxRetriesExceededError);
    assert.throws(() => raiseRetry({ ...request, retries: 1 }, TASK_SPECS.flaky.options), Retry);
    assert.throws(() => raiseRetry({ ...request, retries: 100 }, {}, { maxRetries: null }), Retry);
    assert.throws(() => raiseRetry({ ...request, retries: 3 }, {}), MaxRetriesExceededError, 'Python default max_retries is 3');
  });
});

describe('canvas', () => {
  test('a captured 4-step chain continues as Python does: next step last in the list, result prepended, queue from options', () => {
    const request = decoded('celery-5.2/v2-task-chain-4-steps.json');
    const [next] = successContinuations(request, 3, 'celery');
    assert.ok(next);
    assert.equal(next.input.task, 'proj.tasks.add');
    assert.deepEqual(next.input.args, [3, 3]);
    assert.equal(next.input.parentId, request.id);
    assert.equal(next.input.rootId, request.rootId);
    assert.equal(next.input.embed?.chain?.length, 2);
    const [after] = successContinuations({ ...request, id: next.input.id, embed: { ...request.embed, chain: next.input.embed!.chain! } }, 6, 'celery');
    assert.equal(after!.input.task, 'proj.tasks.hello');
    assert.equal(after!.route.queue, 'cap_custom');
    assert.deepEqual(after!.input.args, [6]);
    assert.deepEqual(after!.input.kwargs, { age: 4 });
    // Failure: every remaining step with a task id gets the FAILURE, on its own reply queue.
    assert.deepEqual(chainFailureTargets(request).map((t) => t.replyTo), ['e9c40be3-e98b-3c34-93c8-cc9c60637354', 'e9c40be3-e98b-3c34-93c8-cc9c60637354', 'e9c40be3-e98b-3c34-93c8-cc9c60637354']);
  });

  test('immutable steps keep their args; errbacks get the failed id first', () => {
    const sig = immutable(TASK_SPECS.add, [10, 20]);
    const request = { ...decoded('celery-5.2/v2-task-add-delay.json') };
    request.embed = { callbacks: [sig.json], errbacks: [errback(TASK_SPECS.onError, []).json], chain: null, chord: null };
    assert.deepEqual(successContinuations(request, 99, 'celery')[0]!.input.args, [10, 20]);
    assert.deepEqual(errbackContinuations(request, 'celery')[0]!.input.args, [request.id]);
  });

  test('a nested group in a chain is refused loudly (UNSUPPORTED_CANVAS), not dropped', () => {
    const request = { ...decoded('celery-5.2/v2-task-add-delay.json') };
    const nested = { task: 'celery.group', args: [], kwargs: { tasks: [] }, options: { task_id: 'g' }, subtask_type: 'group', immutable: false };
    request.embed = { callbacks: null, errbacks: null, chain: [nested], chord: null };
    assert.throws(() => successContinuations(request, 1, 'celery'), (e: unknown) => e instanceof CeleryGenError && e.code === 'UNSUPPORTED_CANVAS');
    assert.deepEqual(chainFailureTargets(request), [{ taskId: 'g', replyTo: null }]);
  });

  test('chain() assigns ids and reply_to and reverses the rest; group() members are plain signatures', () => {
    const c = chain(signature(TASK_SPECS.add, [1, 2]), step(TASK_SPECS.mul, [10]), step(TASK_SPECS.add, [1], {}, { queue: 'other' }));
    const { first, rest, lastId } = c.prepare('replyq');
    assert.deepEqual(first.args, [1, 2]);
    assert.deepEqual(rest.map((s) => s.task), ['tasks.add', 'tasks.mul']);
    assert.equal(rest[0]!.options['queue'], 'other');
    assert.equal(rest[0]!.options['task_id'], lastId);
    assert.ok(rest.every((s) => s.options['reply_to'] === 'replyq'));
    const g = group(signature(TASK_SPECS.add, [1, 1]), signature(TASK_SPECS.stamp, ['x']));
    assert.equal(g.members.length, 2);
    // @ts-expect-error: mul's first argument is a number, stamp returns number[]
    chain(signature(TASK_SPECS.stamp, ['x']), step(TASK_SPECS.mul, [2]));
    // A priority-queue task's signature carries its decorator queue.
    assert.equal(signature(TASK_SPECS.prioritized, ['p']).json.options['queue'], 'cg_test_breadth_priority');
  });
});

describe('time limits', () => {
  test('the header wins over the decorator; hard and soft limits reject with billiard exceptions', async () => {
    assert.deepEqual(effectiveLimits([null, null], TASK_SPECS.tooSlow.options), { hard: 1, soft: null });
    assert.deepEqual(effectiveLimits([0.05, null], TASK_SPECS.tooSlow.options), { hard: 0.05, soft: null });
    const slow = () => new Promise<number>((r) => setTimeout(() => r(1), 300));
    await assert.rejects(withTimeLimits(slow, { hard: 0.05, soft: null }, 't'), (e) => e instanceof TimeLimitExceeded && e.excModule === 'billiard.exceptions');
    const controller = new AbortController();
    await assert.rejects(withTimeLimits(slow, { hard: 1, soft: 0.05 }, 't', controller), SoftTimeLimitExceeded);
    assert.ok(controller.signal.aborted);
    assert.equal(await withTimeLimits(() => Promise.resolve(7), { hard: 1, soft: null }, 't'), 7);
  });
});

describe('rate limits', () => {
  test("Python's rate strings and a capacity-one token bucket", () => {
    assert.equal(parseRate('10/s'), 10);
    assert.equal(parseRate('120/m'), 2);
    assert.equal(parseRate('3600/h'), 1);
    assert.equal(parseRate(5), 5);
    assert.equal(parseRate('2.5'), 2.5);
    for (const none of [null, undefined, 0, '0/s', 'often', '']) assert.equal(parseRate(none), null);
    const bucket = new TokenBucket(4);
    assert.deepEqual([bucket.reserve(1000), bucket.reserve(1000), bucket.reserve(1000), bucket.reserve(5000)], [1000, 1250, 1500, 5000]);
  });
});
