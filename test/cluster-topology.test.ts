/**
 * Pure tests of native delayed delivery (kombu 5.5+'s names, routing keys and topology),
 * broker URL lists and the queue-type rules. The routing simulation below walks the
 * declared topology as RabbitMQ's topic exchanges and TTL queues would, so a wrong key,
 * binding or dead-letter target shows up as a wrong total delay.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseBrokerUrls, UrlRotation } from '../runtime/protocol/broker-urls.js';
import {
  type Binding,
  DELAYED_DELIVERY_ENTRY,
  DELAYED_DELIVERY_EXCHANGE,
  delayedDeliveryBindings,
  delayedDeliveryTopology,
  delayedLevelName,
  delayedRoutingKey,
  deferBinding,
  MAX_DELAY_SECONDS,
  stripDelayPrefix,
  usesNativeDelay,
} from '../runtime/protocol/delayed-delivery.js';
import { appHasQuorumQueue, queueArgumentsOf, queueRouteOf } from '../runtime/protocol/queue-types.js';

test('routing key: the issue example (countdown 5 to q) and int() truncation, as kombu calculate_routing_key', () => {
  assert.equal(delayedRoutingKey(5, 'q'), '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.1.q');
  assert.equal(delayedRoutingKey(2.9, 'q'), delayedRoutingKey(2, 'q'));
  assert.equal(delayedRoutingKey(MAX_DELAY_SECONDS, 'a.b'), `${Array(28).fill('1').join('.')}.a.b`);
  assert.throws(() => delayedRoutingKey(MAX_DELAY_SECONDS + 1, 'q'), RangeError);
  assert.throws(() => delayedRoutingKey(-1, 'q'), RangeError);
  assert.throws(() => delayedRoutingKey(3, ''), RangeError);
  // A retried task re-reads its prefixed key: the prefix is replaced, never stacked (kombu #2556).
  assert.equal(delayedRoutingKey(1, delayedRoutingKey(5, 'q')), delayedRoutingKey(1, 'q'));
  assert.equal(stripDelayPrefix(delayedRoutingKey(9, 'x.1.0')), 'x.1.0');
  assert.equal(stripDelayPrefix('1.0.q'), '1.0.q');
});

test('topology: 28 levels as kombu declares them (names, TTLs, dead-letter chain, bindings in order)', () => {
  const t = delayedDeliveryTopology('quorum');
  assert.deepEqual(
    t.exchanges.map((e) => e.name),
    [...Array.from({ length: 28 }, (_, i) => `celery_delayed_${27 - i}`), 'celery_delayed_delivery'],
  );
  assert.ok(t.exchanges.every((e) => e.type === 'topic' && e.durable));
  assert.equal(t.queues.length, 28);
  assert.deepEqual(t.queues[0], {
    name: 'celery_delayed_27',
    arguments: { 'x-queue-type': 'quorum', 'x-overflow': 'reject-publish', 'x-message-ttl': 2 ** 27 * 1000, 'x-dead-letter-exchange': 'celery_delayed_26', 'x-dead-letter-strategy': 'at-least-once' },
  });
  assert.deepEqual(t.queues[27]!.arguments, {
    'x-queue-type': 'quorum',
    'x-overflow': 'reject-publish',
    'x-message-ttl': 1000,
    'x-dead-letter-exchange': 'celery_delayed_delivery',
    'x-dead-letter-strategy': 'at-least-once',
  });
  assert.equal(delayedDeliveryTopology('classic').queues[3]!.arguments['x-dead-letter-strategy'], undefined);
  assert.equal(t.bindings.length, 28 + 27 + 1);
  const star = (n: number): string => '*.'.repeat(n);
  assert.deepEqual(t.bindings[0], { source: 'celery_delayed_27', destination: 'celery_delayed_27', destinationKind: 'queue', routingKey: '1.#' });
  assert.deepEqual(t.bindings[27], { source: 'celery_delayed_0', destination: 'celery_delayed_0', destinationKind: 'queue', routingKey: `${star(27)}1.#` });
  assert.deepEqual(t.bindings[28], { source: 'celery_delayed_27', destination: 'celery_delayed_26', destinationKind: 'exchange', routingKey: '0.#' });
  assert.deepEqual(t.bindings[54], { source: 'celery_delayed_1', destination: 'celery_delayed_0', destinationKind: 'exchange', routingKey: `${star(26)}0.#` });
  assert.deepEqual(t.bindings[55], { source: 'celery_delayed_0', destination: DELAYED_DELIVERY_EXCHANGE, destinationKind: 'exchange', routingKey: `${star(27)}0.#` });
  assert.equal(delayedLevelName(0), 'celery_delayed_0');
  assert.equal(DELAYED_DELIVERY_ENTRY, 'celery_delayed_27');
  assert.throws(() => delayedLevelName(28), RangeError);
});

/** AMQP topic matching: `*` one word, `#` zero or more. */
function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return match(i + 1, j) || (j < k.length && match(i, j + 1));
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

/** Follows a message through exchanges, TTL queues and dead-lettering; returns where it ends up and after how long. */
function route(bindings: readonly Binding[], queueTtl: Map<string, { ttl: number; dlx: string }>, exchange: string, key: string, waited = 0): { queue: string; waitedMs: number }[] {
  const out: { queue: string; waitedMs: number }[] = [];
  for (const b of bindings) {
    if (b.source !== exchange || !topicMatches(b.routingKey, key)) continue;
    if (b.destinationKind === 'exchange') out.push(...route(bindings, queueTtl, b.destination, key, waited));
    else {
      const level = queueTtl.get(b.destination);
      if (level) out.push(...route(bindings, queueTtl, level.dlx, key, waited + level.ttl));
      else out.push({ queue: b.destination, waitedMs: waited });
    }
  }
  return out;
}

test('simulated routing: any delay reaches a topic queue bound as Celery binds it, after exactly that many seconds', () => {
  const t = delayedDeliveryTopology('quorum');
  const ttl = new Map(t.queues.map((q) => [q.name, { ttl: q.arguments['x-message-ttl'] as number, dlx: q.arguments['x-dead-letter-exchange'] as string }]));
  const topic = { queue: 'work', queueType: 'quorum', exchange: 'work', exchangeType: 'topic', routingKey: 'work' } as const;
  const direct = { queue: 'plain', queueType: 'quorum', exchange: '', exchangeType: 'direct', routingKey: 'plain' } as const;
  const bindings = [...t.bindings, ...delayedDeliveryBindings(topic), { source: 'work', destination: 'work', destinationKind: 'queue' as const, routingKey: 'work' }, deferBinding(direct)];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100_000_000 }), fc.constantFrom('work', 'plain'), (seconds, target) => {
      const arrived = route(bindings, ttl, DELAYED_DELIVERY_ENTRY, delayedRoutingKey(seconds, target));
      assert.deepEqual(arrived, [{ queue: target, waitedMs: seconds * 1000 }]);
    }),
    { numRuns: 300 },
  );
});

test('worker bindings: as Celery for a topic exchange (#.<key>, a leading # kept); none for direct; defer binding for direct quorum', () => {
  assert.deepEqual(delayedDeliveryBindings({ queue: 'q', queueType: 'quorum', exchange: 'ex', exchangeType: 'topic', routingKey: 'rk' }), [
    { source: 'celery_delayed_delivery', destination: 'ex', destinationKind: 'exchange', routingKey: '#.rk' },
    { source: 'ex', destination: 'q', destinationKind: 'queue', routingKey: '#.rk' },
  ]);
  assert.equal(delayedDeliveryBindings({ queue: 'q', queueType: 'quorum', exchange: 'ex', exchangeType: 'topic', routingKey: '#.a' })[0]!.routingKey, '#.a');
  assert.deepEqual(delayedDeliveryBindings({ queue: 'q', queueType: 'quorum', exchange: '', exchangeType: 'direct', routingKey: 'q' }), []);
  assert.deepEqual(deferBinding({ queue: 'q', queueType: 'quorum', exchange: '', exchangeType: 'direct', routingKey: 'q' }), {
    source: 'celery_delayed_delivery',
    destination: 'q',
    destinationKind: 'queue',
    routingKey: '#.q',
  });
});

test("Celery's rule for native delay: quorum app, non-direct exchange, a whole second or more", () => {
  const base = { delayMs: 3000, appHasQuorumQueue: true, exchange: 'q', exchangeType: 'topic' } as const;
  assert.equal(usesNativeDelay(base), true);
  assert.equal(usesNativeDelay({ ...base, appHasQuorumQueue: false }), false);
  assert.equal(usesNativeDelay({ ...base, exchangeType: 'direct' }), false);
  assert.equal(usesNativeDelay({ ...base, exchange: '' }), false);
  assert.equal(usesNativeDelay({ ...base, delayMs: 999 }), false);
});

test('queue types: default queue, missing queues, explicit x-queue-type, exchange type', () => {
  const settings = { defaultQueue: 'celery', defaultQueueType: 'quorum', defaultExchangeType: 'topic', queueArguments: { prio: { 'x-max-priority': 10 }, q2: { 'x-queue-type': 'quorum' } } } as const;
  assert.deepEqual(queueRouteOf('celery', settings), { queue: 'celery', queueType: 'quorum', exchange: 'celery', exchangeType: 'topic', routingKey: 'celery' });
  assert.equal(queueRouteOf('other', settings).queueType, 'classic');
  assert.equal(queueRouteOf('q2', settings).queueType, 'quorum');
  assert.equal(queueRouteOf('other', { ...settings, createMissingQueueType: 'quorum' }).queueType, 'quorum');
  assert.equal(queueRouteOf('celery', { defaultQueue: 'celery' }).exchange, '');
  assert.deepEqual(queueArgumentsOf('celery', settings), { 'x-queue-type': 'quorum' });
  assert.deepEqual(queueArgumentsOf('prio', settings), { 'x-max-priority': 10 });
  assert.equal(queueArgumentsOf('x', { defaultQueue: 'celery' }), undefined);
  assert.equal(appHasQuorumQueue({ defaultQueue: 'celery' }), false);
  assert.equal(appHasQuorumQueue(settings), true);
  assert.equal(appHasQuorumQueue({ defaultQueue: 'celery', queueArguments: { a: { 'x-queue-type': 'quorum' } } }), true);
});

test('broker URL lists: ;-separated or an array, trimmed; round-robin rotation wraps', () => {
  assert.deepEqual(parseBrokerUrls('amqp://a//; amqp://b// ;'), ['amqp://a//', 'amqp://b//']);
  assert.deepEqual(parseBrokerUrls(['amqp://a//', 'amqp://b//;amqp://c//']), ['amqp://a//', 'amqp://b//', 'amqp://c//']);
  assert.throws(() => parseBrokerUrls(' ; '), /no URL/);
  const r = new UrlRotation(['a', 'b', 'c']);
  assert.deepEqual([r.current, r.advance(), r.advance(), r.advance()], ['a', 'b', 'c', 'a']);
});
