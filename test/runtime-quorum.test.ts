/**
 * Quorum queues and native delayed delivery on the main RabbitMQ node (5672), TS client →
 * TS worker, plus a Celery 5.6.3-shaped countdown message replayed the way Celery 5.6's
 * client publishes it. What is checked against the broker itself: the queue type, the
 * per-consumer prefetch (rabbitmqctl list_consumers), x-delivery-count, the route through
 * celery_delayed_* (x-death, routing key, bindings) and that no ETA message sits unacked
 * in the worker until at most 1 s before it is due (list_queues messages_unacknowledged).
 *
 * The celery_delayed_* topology it declares on vhost / stays (as a Celery 5.5+ worker's does);
 * declaring it again is a no-op.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Celery, defineTask, implementTask, silentLogger, type TaskContext, type TaskImplementation } from 'celery-gen';
import { delayedRoutingKey } from '../runtime/protocol/delayed-delivery.js';
import { BROKER_URL, brokerMissing, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';
import { connectionsNamed, rabbitmqctl, rabbitmqctlMissing } from './support/reliability.js';

const skip = (await brokerMissing()) || (await rabbitmqctlMissing());

interface Run {
  readonly at: number;
  readonly args: readonly unknown[];
  readonly context: TaskContext;
}

/** A bind=True task `name(x)` that records every run. */
function recordingTask(name: string, runs: Run[], work?: () => Promise<void>): TaskImplementation {
  const spec = defineTask<[x: number], { x?: number }, number>({
    name,
    bind: true,
    params: [{ name: 'x', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } }],
    options: {},
  });
  return implementTask(spec, async (context: TaskContext, x: number) => {
    runs.push({ at: Date.now(), args: [x], context });
    await work?.();
    return x;
  });
}

/**
 * Unacked messages on the channels of connections named `marker` (the worker's app), live:
 * list_channels asks each channel process, while list_queues shows a quorum queue's counts
 * only as of its last stats emission (every 5 s by default).
 */
async function unackedOnConnections(pids: ReadonlySet<string>): Promise<{ count: number; endedAt: number }> {
  const out = await rabbitmqctl('-q', 'list_channels', '--no-table-headers', 'connection', 'messages_unacknowledged');
  let total = 0;
  for (const line of out.split('\n')) {
    const [pid, count] = line.split('\t');
    if (pid !== undefined && pids.has(pid)) total += Number(count);
  }
  return { count: total, endedAt: Date.now() };
}

/** The broker-side ids of the connections named `marker` (looked up before timing starts: rabbitmqctl is slow). */
async function connectionIds(marker: string): Promise<Set<string>> {
  const pids = new Set(await connectionsNamed(marker));
  assert.ok(pids.size > 0, `no connection named ${marker}`);
  return pids;
}

/** Samples the worker's unacked count until `done()`; returns the samples that ended more than 1 s before `dueAt`. */
async function samplesBeforeDue(pids: ReadonlySet<string>, dueAt: number, done: () => boolean): Promise<number[]> {
  const early: number[] = [];
  while (!done() && Date.now() < dueAt - 1000) {
    const sample = await unackedOnConnections(pids);
    if (sample.endedAt <= dueAt - 1000) early.push(sample.count);
  }
  return early;
}

/** `name → messages_unacknowledged` of every queue on the main node (quorum queues: as of the last stats emission). */
async function unacked(): Promise<Map<string, number>> {
  const out = await rabbitmqctl('-q', 'list_queues', '--no-table-headers', 'name', 'messages_unacknowledged');
  return new Map(out.split('\n').filter(Boolean).map((line) => {
    const [name, count] = line.split('\t');
    return [name!, Number(count)] as const;
  }));
}

describe('quorum queues and native delayed delivery (main node)', { skip }, () => {
  let broker: RawBroker;
  const queues: string[] = [];
  const apps: Celery[] = [];
  const newApp = (queue: string, exchangeType: 'direct' | 'topic') => {
    queues.push(queue);
    const app = new Celery({ broker: BROKER_URL, defaultQueue: queue, defaultQueueType: 'quorum', defaultExchangeType: exchangeType, logger: silentLogger, connectionName: `cg-quorum ${queue}` });
    apps.push(app);
    return app;
  };

  before(async () => {
    broker = await rawBroker();
  });

  after(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await broker.close(queues);
    for (const q of queues) await broker.connection.createChannel().then((ch) => ch.deleteExchange(q).then(() => ch.close())).catch(() => undefined);
  });

  test('the worker consumes a quorum queue with per-consumer prefetch (global QoS is refused there)', async () => {
    const queue = uniqueQueue('quorum_qos');
    const app = newApp(queue, 'direct');
    const runs: Run[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const worker = app.createWorker([recordingTask('t.slow', runs, () => gate)], { concurrency: 2, handleSignals: false, heartbeat: false, remoteControl: false });
    await worker.start();
    const types = await rabbitmqctl('-q', 'list_queues', '--no-table-headers', 'name', 'type');
    assert.match(types, new RegExp(`${queue}\\tquorum`));
    for (let i = 0; i < 5; i++) await app.sendTask('t.slow', [i], {}, { ignoreResult: true });
    await waitFor(() => runs.length === 2, 5000, 'two tasks running');
    const consumers = await rabbitmqctl('-q', 'list_consumers', '--no-table-headers', 'queue_name', 'prefetch_count');
    assert.match(consumers, new RegExp(`${queue}\\t2\\b`), consumers);
    // Quorum queue figures reach list_queues through periodic stats (every 5 s by default).
    await waitFor(async () => (await unacked()).get(queue) === 2, 8000, 'list_queues to show 2 unacked');
    release();
    await waitFor(() => runs.length === 5, 5000, 'all five tasks');
    await worker.stop();
  });

  test('x-delivery-count reaches the task context as the redelivery count', async () => {
    const queue = uniqueQueue('quorum_redeliver');
    const app = newApp(queue, 'direct');
    await app.sendTask('t.count', [7], {}, { ignoreResult: true });
    // Two deliveries handed back (as by a crashed worker) before the TS worker gets it.
    const ch = await broker.connection.createChannel();
    for (let i = 0; i < 2; i++) {
      let got: import('amqplib').GetMessage | false = false;
      await waitFor(async () => (got = await ch.get(queue, { noAck: false })) !== false, 5000, 'the message');
      ch.nack(got as unknown as import('amqplib').Message, false, true);
    }
    await ch.close();
    const runs: Run[] = [];
    const worker = app.createWorker([recordingTask('t.count', runs)], { handleSignals: false, heartbeat: false, remoteControl: false });
    await worker.start();
    await waitFor(() => runs.length === 1, 5000, 'the task');
    assert.equal(runs[0]!.context.deliveryInfo.redeliveryCount, 2);
    assert.equal(runs[0]!.context.deliveryInfo.redelivered, true);
    await worker.stop();
  });

  test('topic exchange: a 3 s countdown travels through celery_delayed_*, runs after 3 s (±1 s), never unacked early', async () => {
    const queue = uniqueQueue('quorum_delay');
    const app = newApp(queue, 'topic');
    const runs: Run[] = [];
    const worker = app.createWorker([recordingTask('t.later', runs)], { handleSignals: false, heartbeat: false, remoteControl: false });
    await worker.start();
    const bindings = await rabbitmqctl('-q', 'list_bindings', '--no-table-headers', 'source_name', 'destination_name', 'routing_key');
    assert.match(bindings, new RegExp(`celery_delayed_delivery\\t${queue}\\t#\\.${queue}`), 'exchange-to-exchange binding from celery_delayed_delivery');
    assert.match(bindings, new RegExp(`${queue}\\t${queue}\\t#\\.${queue}`), 'queue bound to its exchange with #.<key>');
    const pids = await connectionIds(`cg-quorum ${queue}`);
    const sentAt = Date.now();
    await app.sendTask('t.later', [3], {}, { countdown: 3, ignoreResult: true });
    const dueAt = sentAt + 3000;
    const early = await samplesBeforeDue(pids, dueAt, () => runs.length > 0);
    assert.ok(early.length >= 1, 'no sample of the worker channel finished more than 1 s before due (machine too slow?)');
    assert.deepEqual(early, early.map(() => 0), 'unacked messages on the worker more than 1 s before due');
    await waitFor(() => runs.length === 1, 5000, 'the countdown task');
    const ranAfter = runs[0]!.at - sentAt;
    assert.ok(ranAfter >= 2000 && ranAfter <= 4000, `ran after ${ranAfter} ms, expected 3000 ± 1000`);
    const { context } = runs[0]!;
    assert.equal(context.deliveryInfo.routingKey, delayedRoutingKey(3, queue));
    const deaths = context.headers['x-death'] as { queue: string; exchange: string }[];
    assert.ok(Array.isArray(deaths) && deaths.some((d) => d.queue === 'celery_delayed_1') && deaths.some((d) => d.queue === 'celery_delayed_0'), JSON.stringify(deaths));
    await worker.stop();
  });

  test('direct exchange: held ETA messages are deferred through the topology and do not block immediate tasks', async () => {
    const queue = uniqueQueue('quorum_direct_eta');
    const app = newApp(queue, 'direct');
    const runs: Run[] = [];
    const worker = app.createWorker([recordingTask('t.mixed', runs)], { concurrency: 1, handleSignals: false, heartbeat: false, remoteControl: false });
    await worker.start();
    const pids = await connectionIds(`cg-quorum ${queue}`);
    const sentAt = Date.now();
    for (let i = 0; i < 4; i++) await app.sendTask('t.mixed', [100 + i], {}, { countdown: 4, ignoreResult: true });
    await app.sendTask('t.mixed', [1], {}, { ignoreResult: true });
    await waitFor(() => runs.some((r) => r.args[0] === 1), 2000, 'the immediate task behind four held ETA tasks');
    assert.ok(runs.find((r) => r.args[0] === 1)!.at - sentAt < 1500);
    const early = await samplesBeforeDue(pids, sentAt + 4000, () => false);
    assert.ok(early.length >= 1, 'no sample finished more than 1 s before due (machine too slow?)');
    assert.deepEqual(early, early.map(() => 0), 'ETA messages held unacked by the worker more than 1 s before due');
    await waitFor(() => runs.length === 5, 6000, 'the four ETA tasks');
    for (const run of runs.filter((r) => r.args[0] !== 1)) {
      const after = run.at - sentAt;
      assert.ok(after >= 3500 && after <= 5000, `ETA task ran after ${after} ms, expected about 4000`);
    }
    await worker.stop();
  });

  test('Celery 5.6.3-shaped countdown message, published as its client does (celery_delayed_27, bits.<key>), runs on the TS worker', async () => {
    const queue = uniqueQueue('quorum_replay');
    const app = newApp(queue, 'topic');
    const runs: Run[] = [];
    const worker = app.createWorker([recordingTask('newproj.tasks.add', runs)], { handleSignals: false, heartbeat: false, remoteControl: false });
    await worker.start();
    const capture = JSON.parse(readFileSync('fixtures/messages/celery-5.6/v2-task-countdown.json', 'utf8')) as {
      messages: { headers: Record<string, unknown>; properties: Record<string, unknown>; body_raw: string }[];
    };
    const { headers, properties, body_raw: body } = capture.messages[0]!;
    const id = randomUUID();
    const eta = new Date(Date.now() + 2000).toISOString().replace('Z', '000+00:00');
    // Celery 5.6's send_task: int(countdown) → 28 bits, then the queue's routing key.
    const key = `${'0.'.repeat(26)}1.0.${queue}`;
    assert.equal(key, delayedRoutingKey(2, queue));
    const ch = await broker.connection.createConfirmChannel();
    ch.publish('celery_delayed_27', key, Buffer.from(body.replace('[[2, 3]', '[[5]')), {
      headers: { ...headers, id, root_id: id, eta, argsrepr: '(5,)' },
      contentType: properties['content_type'] as string,
      contentEncoding: properties['content_encoding'] as string,
      correlationId: id,
      deliveryMode: 2,
      priority: 0,
    });
    await ch.waitForConfirms();
    await ch.close();
    const sentAt = Date.now();
    await waitFor(() => runs.length === 1, 5000, 'the replayed task');
    assert.deepEqual(runs[0]!.args, [5]);
    assert.ok(runs[0]!.at - sentAt >= 1000, 'it waited in the topology');
    await worker.stop();
  });

  test('countdown under 1 s is accepted (sent directly) and a client alone declares the topology and bindings', async () => {
    const queue = uniqueQueue('quorum_short');
    const app = newApp(queue, 'topic');
    const sentAt = Date.now();
    await app.sendTask('t.short', [1], {}, { countdown: 0.5, ignoreResult: true });
    await app.sendTask('t.short', [2], {}, { countdown: 1, ignoreResult: true });
    // No worker ever ran on this queue: the client's own bindings bring the 1 s message in.
    await waitFor(async () => (await broker.channel.checkQueue(queue)).messageCount === 2, 4000, 'both messages in the queue');
    assert.ok(Date.now() - sentAt >= 900);
  });
});
