/**
 * Runtime benchmark against the real RabbitMQ, each figure against raw amqplib doing the
 * same work in the same run:
 * - publish rate: sendTask() (encode + confirmed publish) vs a ConfirmChannel publishing
 *   the same bytes, same delivery mode, same number of unconfirmed messages in flight,
 *   in alternating chunks;
 * - drain rate: our worker (decode, bind, run, ack) vs a raw consumer (JSON.parse, ack)
 *   at the same prefetch, both acking after the run;
 * - rpc round trip p50/p99: sendTask().get() against our worker vs raw amqplib
 *   request/reply (confirmed publish, a consumer that replies, a reply consumer).
 *
 * Our apps run at default settings (default logger and level, heartbeat, remote control),
 * as users run them.
 *
 *   npm run bench:runtime        (CELERY_GEN_BROKER overrides the broker URL)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { alternatingRates, drainRate, median, percentile, report, windowed, type Comparison } from './harness.js';
import { RUNTIME_FROM, shipped } from './load-runtime.js';

const runtime = await shipped<typeof import('../runtime/index.js')>('runtime/index.js');
const protocol = await shipped<typeof import('../runtime/protocol/message.js')>('runtime/protocol/message.js');
const { Celery, defineTask, implementTask } = runtime;
// After the runtime, as an app would order its imports: the runtime patches amqplib's codec as it loads (and warns otherwise).
const { default: amqpClient } = await import('amqplib');
const { encodeTaskMessage } = protocol;

const BROKER = process.env.CELERY_GEN_BROKER ?? 'amqp://guest:guest@127.0.0.1:5672//';
const PUBLISH_N = Number(process.env.BENCH_PUBLISH_N ?? 5000);
const DRAIN_N = Number(process.env.BENCH_DRAIN_N ?? 10000);
const RPC_N = Number(process.env.BENCH_RPC_N ?? 400);
const WINDOW = 64; // unconfirmed publishes in flight
const PUBLISH_CHUNKS = 10;
const PREFETCH = 32;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

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

/** Runs `n` async jobs with at most `window` in flight. */
function confirmedPublish(channel: ConfirmChannel, queue: string, body: Buffer, options: amqp.Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => channel.publish('', queue, body, options, (err: unknown) => (err ? reject(err) : resolve())));
}

/**
 * Publish rates, ours and raw, from alternating chunks (so both see the same broker and
 * machine conditions): sendTask() against a ConfirmChannel publishing the same bytes.
 */
async function publishRates(connection: ChannelModel, oursQueue: string, rawQueue: string): Promise<{ ours: number; raw: number }> {
  const app = new Celery({ broker: BROKER, defaultQueue: oursQueue });
  await app.sendTask(ADD.name, [0, 0], {}, {}, ADD); // connection, reply queue, declaration
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(rawQueue, { durable: true });
  const message = encodeTaskMessage({ id: randomUUID(), task: ADD.name, args: [1, 2], kwargs: {}, replyTo: 'bench', origin: 'bench' });
  const options = { ...message.properties, headers: message.wireHeaders };
  await confirmedPublish(channel, rawQueue, message.body, options);
  const chunk = Math.max(WINDOW, Math.floor(PUBLISH_N / PUBLISH_CHUNKS));
  const rates = await alternatingRates(PUBLISH_CHUNKS, chunk, WINDOW, (i) => app.sendTask(ADD.name, [i, i], {}, {}, ADD), () => confirmedPublish(channel, rawQueue, message.body, options));
  await channel.close();
  await app.close();
  return rates;
}

/** Fills `queue` with `n` add tasks that ask for no reply (ignore_result), as both consumers will read them. */
async function fill(connection: ChannelModel, queue: string, n: number): Promise<void> {
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  await windowed(n, WINDOW, (i) => {
    const message = encodeTaskMessage({ id: randomUUID(), task: ADD.name, args: [i, 1], kwargs: {}, replyTo: '', origin: 'bench', ignoreResult: true });
    return confirmedPublish(channel, queue, message.body, { ...message.properties, headers: message.wireHeaders });
  });
  await channel.close();
}

async function drainOurs(connection: ChannelModel, queue: string): Promise<number> {
  await fill(connection, queue, DRAIN_N);
  return drainRate(DRAIN_N, async (ran) => {
    const app = new Celery({ broker: BROKER });
    const worker = app.createWorker(
      [
        implementTask(ADD, (x: number, y: number) => {
          ran();
          return x + y;
        }),
      ],
      { queues: [queue], concurrency: PREFETCH, handleSignals: false },
    );
    await app.transport.connect();
    return { start: () => worker.start(), close: () => app.close() };
  });
}

async function drainRaw(connection: ChannelModel, queue: string): Promise<number> {
  await fill(connection, queue, DRAIN_N);
  const channel = await connection.createChannel();
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const start = performance.now();
  await channel.prefetch(PREFETCH);
  await channel.assertQueue(queue, { durable: true });
  const { consumerTag } = await channel.consume(queue, (message: ConsumeMessage | null) => {
    if (!message) return;
    const [args] = JSON.parse(message.content.toString('utf8')) as [number[]];
    void (args[0]! + args[1]!);
    channel.ack(message);
    if (++done === DRAIN_N) finish();
  });
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await channel.cancel(consumerTag);
  await channel.close();
  return DRAIN_N / seconds;
}

interface RpcSetup {
  call(i: number): Promise<void>;
  close(): Promise<void>;
}

async function rpcOurs(queue: string): Promise<RpcSetup> {
  const app = new Celery({ broker: BROKER, defaultQueue: queue });
  const worker = app.createWorker([implementTask(ADD, (x: number, y: number) => x + y)], { concurrency: 1, handleSignals: false });
  await worker.start();
  return {
    call: async (i) => {
      await (await app.sendTask(ADD.name, [i, 1], {}, {}, ADD)).get();
    },
    close: () => app.close(),
  };
}

async function rpcRaw(connection: ChannelModel, queue: string): Promise<RpcSetup> {
  const server: Channel = await connection.createChannel();
  await server.prefetch(1);
  await server.assertQueue(queue, { durable: true });
  await server.consume(queue, (message) => {
    if (!message) return;
    const [args] = JSON.parse(message.content.toString('utf8')) as [number[]];
    const id = String(message.properties.correlationId);
    const reply = JSON.stringify({ task_id: id, status: 'SUCCESS', result: args[0]! + args[1]!, traceback: null, children: [] });
    server.publish('', String(message.properties.replyTo), Buffer.from(reply), { correlationId: id, contentType: 'application/json', deliveryMode: 1 });
    server.ack(message);
  });
  const client = await connection.createConfirmChannel();
  const replyQueue = (await client.assertQueue(randomUUID(), { durable: false, autoDelete: true, arguments: { 'x-expires': 86_400_000 } })).queue;
  const waiting = new Map<string, () => void>();
  await client.consume(
    replyQueue,
    (message) => {
      if (!message) return;
      const meta = JSON.parse(message.content.toString('utf8')) as { task_id: string };
      waiting.get(meta.task_id)?.();
    },
    { noAck: true },
  );
  return {
    call: async (i) => {
      const id = randomUUID();
      const message = encodeTaskMessage({ id, task: ADD.name, args: [i, 1], kwargs: {}, replyTo: replyQueue, origin: 'bench' });
      const replied = new Promise<void>((resolve) => waiting.set(id, resolve));
      await Promise.all([confirmedPublish(client, queue, message.body, { ...message.properties, headers: message.wireHeaders }), replied]);
      waiting.delete(id);
    },
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** Alternates raw and our calls, so both see the same broker and machine conditions. */
async function rpcRoundTrips(connection: ChannelModel, rawQueue: string, oursQueue: string): Promise<{ raw: number[]; ours: number[] }> {
  const raw = await rpcRaw(connection, rawQueue);
  const ours = await rpcOurs(oursQueue);
  const times = { raw: [] as number[], ours: [] as number[] };
  for (let i = 0; i < 20; i++) {
    await raw.call(i);
    await ours.call(i);
  }
  for (let i = 0; i < RPC_N; i++) {
    for (const [setup, into] of i % 2 ? ([[raw, times.raw], [ours, times.ours]] as const) : ([[ours, times.ours], [raw, times.raw]] as const)) {
      const start = performance.now();
      await setup.call(i);
      into.push(performance.now() - start);
    }
  }
  await ours.close();
  await raw.close();
  return times;
}

async function main(): Promise<void> {
  const connection = await amqpClient.connect(BROKER, { noDelay: true });
  const queues: string[] = [];
  const fresh = (what: string) => {
    const name = queueName(what);
    queues.push(name);
    return name;
  };
  const publish = { ours: [] as number[], raw: [] as number[] };
  const drain = { ours: [] as number[], raw: [] as number[] };
  const rpc = { ours: [] as number[], raw: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which side goes first: the broker's state drifts within a run.
      const rates = await publishRates(connection, fresh('pub_ours'), fresh('pub_raw'));
      publish.ours.push(rates.ours);
      publish.raw.push(rates.raw);
      if (round % 2 === 0) {
        drain.raw.push(await drainRaw(connection, fresh('drain_raw')));
        drain.ours.push(await drainOurs(connection, fresh('drain_ours')));
      } else {
        drain.ours.push(await drainOurs(connection, fresh('drain_ours')));
        drain.raw.push(await drainRaw(connection, fresh('drain_raw')));
      }
      const trips = await rpcRoundTrips(connection, fresh('rpc_raw'), fresh('rpc_ours'));
      rpc.raw.push(...trips.raw);
      rpc.ours.push(...trips.ours);
    }
  } finally {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    await connection.close();
  }
  const comparisons: Comparison[] = [
    { name: `publish rate (${PUBLISH_N} msgs, ${WINDOW} in flight, confirms)`, ours: median(publish.ours), baseline: median(publish.raw), unit: 'msg/s', better: 'higher', target: 0.9 },
    { name: `drain rate (${DRAIN_N} msgs, prefetch ${PREFETCH}, ack after run)`, ours: median(drain.ours), baseline: median(drain.raw), unit: 'msg/s', better: 'higher', target: 0.9 },
    { name: `rpc round trip p50 (${RPC_N * ROUNDS} calls)`, ours: percentile(rpc.ours, 50), baseline: percentile(rpc.raw, 50), unit: 'ms', better: 'lower', target: 1.2 },
    { name: `rpc round trip p99 (${RPC_N * ROUNDS} calls)`, ours: percentile(rpc.ours, 99), baseline: percentile(rpc.raw, 99), unit: 'ms', better: 'lower', target: 1.2 },
  ];
  console.log(`runtime: ${RUNTIME_FROM}; broker: ${BROKER.replace(/:[^:@/]*@/, ':***@')}`);
  const ok = report(comparisons);
  process.exitCode = ok ? 0 : 1;
}

await main();
