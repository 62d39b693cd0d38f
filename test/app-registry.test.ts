// app/registry.ts chooses the broker and backend adapters from the URL schemes; the app's
// broker-specific accessors refuse the other broker instead of building a connection to it.
// Nothing here connects: adapters open their connections lazily.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Celery, CeleryGenError, chord, signature, silentLogger, Transport } from '../runtime/index.js';

const isCode = (code: string) => (e: unknown) => e instanceof CeleryGenError && e.code === code;

test('an amqp:// app has the AMQP transport and no Redis broker; a redis:// app the reverse', async () => {
  const amqp = new Celery({ broker: 'amqp://guest:secret@127.0.0.1:5672//', logger: silentLogger });
  const redis = new Celery({ broker: 'redis://:secret@127.0.0.1:6379/13', backend: 'redis://127.0.0.1:6379/13', logger: silentLogger });
  try {
    assert.ok(amqp.transport instanceof Transport);
    assert.equal(amqp.transport.redactedUrl, 'amqp://guest:***@127.0.0.1:5672//');
    assert.throws(() => amqp.redisBroker, isCode('NOT_REDIS'));
    assert.throws(() => amqp.redisBackend, isCode('NOT_REDIS'));
    assert.throws(() => redis.transport, isCode('NOT_AMQP'));
    assert.throws(() => redis.results, isCode('NOT_AMQP'));
    assert.ok(!redis.redisBroker.redactedUrl.includes('secret'));
    assert.ok(redis.redisBackend);
  } finally {
    await amqp.close();
    await redis.close();
  }
});

test('schemes are matched case-insensitively and a failover list only where the broker has one', async () => {
  const app = new Celery({ broker: 'AMQP://h1//;amqps://h2//', backend: 'REDIS://127.0.0.1:6379/13', logger: silentLogger });
  assert.deepEqual(app.transport.redactedUrls, ['AMQP://h1//', 'amqps://h2//']);
  assert.ok(app.redisBackend);
  await app.close();
  assert.throws(() => new Celery({ broker: 'amqp://h1//;redis://h2/0' }), isCode('BAD_BROKER_URL'));
  assert.throws(() => new Celery({ broker: 'redis:h/0' }), isCode('UNSUPPORTED_BROKER'));
  assert.throws(() => new Celery({ broker: 'sqs://k:s@h' }), (e: unknown) => isCode('UNSUPPORTED_BROKER')(e) && (e as Error).message.endsWith('use amqp://, amqps://, redis:// or rediss://'));
});

test('a chord on rpc:// is refused by the backend adapter before anything is published', async () => {
  const app = new Celery({ broker: 'amqp://127.0.0.1:1//', logger: silentLogger });
  try {
    // A task known by name only (no spec): the untyped form of `signature`.
    const task = (name: string) => ({ name }) as unknown as Parameters<typeof signature>[0];
    await assert.rejects(chord([signature(task('tasks.add'), [1, 2])], signature(task('tasks.sum'), [])).applyAsync(app), isCode('CHORD_UNSUPPORTED'));
  } finally {
    await app.close();
  }
});
