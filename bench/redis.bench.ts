/**
 * Redis broker benchmark against the real Redis (db 13, flushed before and after), each
 * figure against a raw ioredis client doing the same Redis work in the same run:
 * - publish rate: sendTask() on a redis:// app (encode, kombu envelope, LPUSH) vs raw
 *   LPUSHes of an envelope of the same size, the same number in flight, in alternating chunks;
 * - drain rate: our worker (BRPOP, park in unacked, decode, bind, run, ack) vs a raw loop
 *   doing the same commands (BRPOP, MULTI ZADD+HSET, JSON.parse, MULTI ZREM+HDEL) with the
 *   same prefetch.
 *
 * Our apps run at default settings (default logger and level), as users run them.
 *
 *   npx tsx bench/redis.bench.ts        (BENCH_REDIS_URL overrides the broker URL)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { alternatingRates, drainRate, median, report, type Comparison } from './harness.js';
import { RUNTIME_FROM, shipped } from './load-runtime.js';

const { Celery, defineTask, implementTask } = await shipped<typeof import('../runtime/index.js')>('runtime/index.js');
const { encodeTaskMessage } = await shipped<typeof import('../runtime/protocol/message.js')>('runtime/protocol/message.js');
const { decodeEnvelope, encodeEnvelope, encodeUnackedEntry } = await shipped<typeof import('../runtime/redis/envelope.js')>('runtime/redis/envelope.js');
const { envelopeFromTaskMessage } = await shipped<typeof import('../runtime/redis/messages.js')>('runtime/redis/messages.js');

const URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
const PUBLISH_N = Number(process.env.BENCH_PUBLISH_N ?? 5000);
const DRAIN_N = Number(process.env.BENCH_DRAIN_N ?? 5000);
const WINDOW = 64;
const PUBLISH_CHUNKS = 10;
const PREFETCH = 32;
const ROUNDS = 3;

const ADD = defineTask<[x: number, y: number], { x?: number; y?: number }, number>({
  name: 'bench.add',
  bind: false,
  params: [
    { name: 'x', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } },
    { name: 'y', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } },
  ],
  options: {},
});

const queueName = (what: string) => `cg_bench_${what}_${randomBytes(3).toString('hex')}`;

/** An envelope as a task with these fields would go out; `fill` and the raw publisher use it. */
function envelope(i: number, ignoreResult: boolean, fields: { replyTo: string; origin: string; queue: string } = { replyTo: '', origin: 'bench', queue: 'q' }): string {
  const message = encodeTaskMessage({ id: randomUUID(), task: ADD.name, args: [i, 1], kwargs: {}, replyTo: fields.replyTo, origin: fields.origin, ignoreResult });
  return encodeEnvelope(envelopeFromTaskMessage(message), { exchange: '', routingKey: fields.queue });
}

/**
 * Publish rates, ours and raw, from alternating chunks (so both see the same Redis and
 * machine conditions, which drift on a shared machine): sendTask() against LPUSHes of an
 * envelope of the same size (a reply_to uuid, the app's origin, the same queue name length)
 * on a plain ioredis client, the same number in flight, each awaited as ours are.
 */
async function publishRates(redis: Redis, oursQueue: string, rawQueue: string): Promise<{ ours: number; raw: number }> {
  const app = new Celery({ broker: URL, backend: URL, defaultQueue: oursQueue });
  await app.sendTask(ADD.name, [0, 0], {}, {}, ADD); // connection, binding declaration
  const payload = envelope(1, false, { replyTo: randomUUID(), origin: app.publisher.origin, queue: rawQueue });
  await redis.lpush(rawQueue, payload);
  const chunk = Math.max(WINDOW, Math.floor(PUBLISH_N / PUBLISH_CHUNKS));
  const rates = await alternatingRates(PUBLISH_CHUNKS, chunk, WINDOW, (i) => app.sendTask(ADD.name, [i, i], {}, {}, ADD), () => redis.lpush(rawQueue, payload));
  await app.close();
  return rates;
}

async function fill(redis: Redis, queue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    const batch = Array.from({ length: Math.min(500, n - i) }, (_, j) => envelope(i + j, true));
    await redis.lpush(queue, ...batch);
  }
}

async function drainOurs(redis: Redis, queue: string): Promise<number> {
  await fill(redis, queue, DRAIN_N);
  return drainRate(DRAIN_N, async (ran) => {
    const app = new Celery({ broker: URL, backend: URL });
    const worker = app.createWorker(
      [
        implementTask(ADD, (x: number, y: number) => {
          ran();
          return x + y;
        }),
      ],
      { queues: [queue], concurrency: PREFETCH, handleSignals: false },
    );
    await app.redisBroker.connect();
    return { start: () => worker.start(), close: () => app.close() };
  });
}

async function drainRaw(redis: Redis, queue: string): Promise<number> {
  await fill(redis, queue, DRAIN_N);
  const blocking = new Redis(URL);
  let inFlight = 0;
  let done = 0;
  let wake: (() => void) | undefined;
  const start = performance.now();
  while (done + inFlight < DRAIN_N) {
    if (inFlight >= PREFETCH) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    const reply = await blocking.brpop(queue, 1);
    if (!reply) continue;
    const raw = reply[1];
    const message = decodeEnvelope(raw);
    const tag = message.deliveryTag;
    await redis.multi().zadd('unacked_index', Date.now() / 1000, tag).hset('unacked', tag, encodeUnackedEntry(raw, '', queue)).exec();
    inFlight++;
    void (async () => {
      const [args] = JSON.parse(message.body.toString('utf8')) as [number[]];
      void (args[0]! + args[1]!);
      await redis.multi().zrem('unacked_index', tag).hdel('unacked', tag).exec();
      inFlight--;
      done++;
      const w = wake;
      wake = undefined;
      w?.();
    })();
  }
  while (done < DRAIN_N) await new Promise<void>((resolve) => (wake = resolve));
  const seconds = (performance.now() - start) / 1000;
  blocking.disconnect();
  return DRAIN_N / seconds;
}

async function main(): Promise<void> {
  const redis = new Redis(URL);
  await redis.flushdb();
  const publish = { ours: [] as number[], raw: [] as number[] };
  const drain = { ours: [] as number[], raw: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const rates = await publishRates(redis, queueName('pub_ours'), queueName('pub_raw'));
      publish.ours.push(rates.ours);
      publish.raw.push(rates.raw);
      drain.raw.push(await drainRaw(redis, queueName('drain_raw')));
      drain.ours.push(await drainOurs(redis, queueName('drain_ours')));
    }
  } finally {
    await redis.flushdb();
    redis.disconnect();
  }
  const comparisons: Comparison[] = [
    { name: `redis publish rate (${PUBLISH_N} msgs, ${WINDOW} in flight)`, ours: median(publish.ours), baseline: median(publish.raw), unit: 'msg/s', better: 'higher', target: 0.8 },
    { name: `redis drain rate (${DRAIN_N} msgs, prefetch ${PREFETCH})`, ours: median(drain.ours), baseline: median(drain.raw), unit: 'msg/s', better: 'higher', target: 0.9 },
  ];
  console.log(`runtime: ${RUNTIME_FROM}; broker: ${URL.replace(/:[^:@/]*@/, ':***@')}`);
  process.exitCode = report(comparisons) ? 0 : 1;
}

await main();
