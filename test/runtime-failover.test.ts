/**
 * Broker URL lists on the main node (5672), with dead URLs (closed local ports) around it:
 * round-robin failover on the first connect and after a lost connection, events and logs
 * that name the (redacted) node, and nacked publishes re-sent on a fresh channel until
 * publishTimeout. The three-node fault test is cluster-failover.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Celery, CeleryGenError, defineTask, implementTask, TransportError } from 'celery-gen';
import { BROKER_URL, brokerMissing, memoryLogger, rawBroker, uniqueQueue, waitFor } from './support/broker.js';
import { forceCloseConnections, rabbitmqctlMissing } from './support/reliability.js';

const skip = (await brokerMissing()) || (await rabbitmqctlMissing());
/** Nothing listens there (the cluster uses 5673-5675). */
const DEAD = 'amqp://guest:secret@127.0.0.1:5679//';

const echo = implementTask(
  defineTask<[x: number], { x?: number }, number>({
    name: 't.echo',
    bind: false,
    params: [{ name: 'x', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } }],
    options: {},
  }),
  (x: number) => x,
);

describe('broker URL lists (main node)', { skip }, () => {
  const apps: Celery[] = [];
  const queues: string[] = [];
  after(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    const broker = await rawBroker();
    await broker.close(queues);
  });

  test('a ;-separated list with a dead first URL: connects to the next one; events and logs name it, redacted', async () => {
    const queue = uniqueQueue('failover_first');
    queues.push(queue);
    const { logger, lines } = memoryLogger();
    const app = new Celery({ broker: `${DEAD};${BROKER_URL}`, defaultQueue: queue, logger });
    apps.push(app);
    const connects: string[] = [];
    app.transport.on('connect', ({ url }) => connects.push(url));
    const worker = app.createWorker([echo], { handleSignals: false, heartbeat: false, remoteControl: false });
    await worker.start();
    assert.equal(await (await app.sendTask('t.echo', [41])).get({ timeout: 5000 }), 41);
    assert.deepEqual(connects, ['amqp://guest:***@127.0.0.1:5672//']);
    const tried = lines.find((l) => l.message.includes('trying the next broker URL'));
    assert.equal(tried?.fields?.['url'], 'amqp://guest:***@127.0.0.1:5679//');
    assert.ok(!JSON.stringify(lines).includes('secret'), 'a password reached the log');
    await worker.stop();
  });

  test('an array list: a lost connection moves round-robin past the dead URL and back; worker and client carry on', async () => {
    const queue = uniqueQueue('failover_loss');
    queues.push(queue);
    const marker = `cg-failover ${queue}`;
    const app = new Celery({ broker: [BROKER_URL, DEAD], defaultQueue: queue, connectionName: marker, logger: memoryLogger().logger, reconnect: { initialDelay: 50, maxDelay: 200 } });
    apps.push(app);
    const attempts: string[] = [];
    const closes: string[] = [];
    let reconnectedTo = '';
    app.transport.on('reconnecting', ({ url }) => attempts.push(url));
    app.transport.on('close', (_error, { url }) => closes.push(url));
    app.transport.on('reconnect', ({ url }) => (reconnectedTo = url));
    const worker = app.createWorker([echo], { handleSignals: false, heartbeat: false, remoteControl: false });
    await worker.start();
    assert.equal(await (await app.sendTask('t.echo', [1])).get({ timeout: 5000 }), 1);
    assert.equal(await forceCloseConnections(marker), 1);
    await waitFor(() => reconnectedTo !== '', 10_000, 'the reconnect');
    assert.deepEqual(closes, ['amqp://guest:***@127.0.0.1:5672//']);
    assert.deepEqual(attempts.slice(0, 2), ['amqp://guest:***@127.0.0.1:5679//', 'amqp://guest:***@127.0.0.1:5672//']);
    assert.equal(reconnectedTo, 'amqp://guest:***@127.0.0.1:5672//');
    assert.equal(await (await app.sendTask('t.echo', [2])).get({ timeout: 10_000 }), 2);
    await worker.stop();
  });

  test('every URL dead: the first connect fails at once, naming no password', async () => {
    const app = new Celery({ broker: `${DEAD};amqp://guest:secret@127.0.0.1:5678//`, logger: memoryLogger().logger, publishTimeout: 2000 });
    apps.push(app);
    const started = Date.now();
    await assert.rejects(app.sendTask('t.echo', [1], {}, { ignoreResult: true }), (error: unknown) => {
      assert.ok(error instanceof TransportError, String(error));
      assert.ok(!error.message.includes('secret'));
      return true;
    });
    assert.ok(Date.now() - started < 2000);
  });

  test('a URL list is AMQP only', () => {
    assert.throws(() => new Celery({ broker: 'redis://127.0.0.1:6379/12;redis://127.0.0.1:6380/12' }), (e: unknown) => e instanceof CeleryGenError && e.code === 'BAD_BROKER_URL');
  });

  test('a nacked publish is sent again on a fresh channel: no error once the queue takes it, PUBLISH_TIMEOUT if it never does', async () => {
    const queue = uniqueQueue('failover_nack');
    queues.push(queue);
    // A full queue with reject-publish nacks: the same answer a quorum queue gives while its leader is gone.
    const app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: memoryLogger().logger, publishTimeout: 1500, queueArguments: { [queue]: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } } });
    apps.push(app);
    await app.sendTask('t.echo', [1], {}, { ignoreResult: true });
    const firstChannel = app.transport.openPublishChannel;
    assert.ok(firstChannel);
    const second = app.sendTask('t.echo', [2], {}, { ignoreResult: true });
    let settled = false;
    void second.then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(settled, false, 'the nacked publish must keep trying, not fail');
    const broker = await rawBroker();
    const got = await broker.channel.get(queue, { noAck: true });
    assert.ok(got);
    await second;
    assert.notEqual(app.transport.openPublishChannel, firstChannel, 'the nacked channel was replaced');
    // Never taken: PUBLISH_TIMEOUT after publishTimeout, naming the nack.
    const started = Date.now();
    await assert.rejects(app.sendTask('t.echo', [3], {}, { ignoreResult: true }), (error: unknown) => {
      assert.ok(error instanceof TransportError && error.code === 'PUBLISH_TIMEOUT', String(error));
      assert.match(error.message, /nack|confirm/i);
      return true;
    });
    assert.ok(Date.now() - started >= 1400);
    await broker.close();
  });
});
