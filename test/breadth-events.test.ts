/**
 * Events from a TS worker (and task-sent from the TS client), read back with Python's
 * own `app.events.Receiver` and folded by `app.events.State` as `celery events` and
 * Flower do: worker-online/heartbeat/offline, task-received/started/succeeded/failed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Celery, type Worker } from 'celery-gen';
import { createClient, createWorker } from '../fixtures/breadth/tasks.js';
import { breadthHandlers, pythonEventReceiver } from './support/breadth.js';
import { BROKER_URL, memoryLogger, rawBroker, uniqueQueue, type RawBroker } from './support/broker.js';
import { peerMissing } from './support/python.js';

const skip = peerMissing();

describe('events: TS worker → Python app.events.Receiver', { skip }, () => {
  const queue = uniqueQueue('breadth_events');
  const node = `cgev-${randomBytes(3).toString('hex')}@breadth`;
  const handlers = breadthHandlers({
    fail: (message) => {
      throw new TypeError(message);
    },
    flaky: (ctx, succeedOn) => {
      if (ctx.retries < succeedOn) ctx.retry({ countdown: 0.1, exc: new RangeError(`again ${ctx.retries}`) });
      return ctx.retries;
    },
  });
  let app: Celery;
  let worker: Worker;
  let broker: RawBroker;
  const log = memoryLogger();
  const problems = () => log.lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.message} ${JSON.stringify(l.fields ?? {})}`).join('\n');

  before(async () => {
    app = new Celery({ broker: BROKER_URL, logger: log.logger, sendTaskSentEvent: true });
    broker = await rawBroker();
  });

  after(async () => {
    await worker?.stop();
    await app?.close();
    await broker?.close([queue]);
  });

  test('celery events sees the TS worker come online, beat, run a success, a failure and a retry, and go offline', async () => {
    const receiver = await pythonEventReceiver(20, 'worker-offline');
    try {
      worker = createWorker(app, handlers, { queues: [queue], hostname: node, events: true, handleSignals: false });
      await worker.start();
      const tasks = createClient(app);
      const ok = await tasks.add.applyAsync([2, 3], {}, { queue });
      const bad = await tasks.fail.applyAsync(['no'], {}, { queue });
      const retried = await tasks.flaky.applyAsync([1], {}, { queue });
      assert.equal(await ok.get({ timeout: 10_000 }), 5);
      assert.equal(await retried.get({ timeout: 10_000 }), 1);
      await assert.rejects(bad.get({ timeout: 10_000 }));
      await new Promise((r) => setTimeout(r, 2500)); // at least one heartbeat (every 2 s)
      await worker.stop();
      const seen = await receiver.result;
      const mine = seen.events.filter((e) => e['hostname'] === node);
      const types = mine.map((e) => e['type']);
      assert.equal(types[0], 'worker-online');
      assert.ok(types.includes('worker-heartbeat'), `${types.join(',')}\n${problems()}`);
      assert.equal(types[types.length - 1], 'worker-offline', problems());
      for (const e of mine) {
        assert.equal(typeof e['clock'], 'number');
        assert.equal(e['pid'], process.pid);
      }
      const clocks = mine.map((e) => e['clock'] as number);
      assert.deepEqual([...clocks].sort((a, b) => a - b), clocks, 'the Lamport clock only grows');
      assert.equal(seen.workers[node]?.sw_ident, 'celery-gen');
      assert.equal(seen.workers[node]?.processed, 4, 'processed count from the last worker event (a retry counts as processed)');
      assert.deepEqual(seen.tasks[ok.id], { state: 'SUCCESS', name: 'tasks.add', worker: node, result: '5', exception: null, retries: 0 });
      const failed = seen.tasks[bad.id]!;
      assert.equal(failed.state, 'FAILURE');
      assert.equal(failed.exception, "TypeError('no')");
      const retriedEvent = mine.find((e) => e['type'] === 'task-retried' && e['uuid'] === retried.id);
      assert.equal(retriedEvent?.['exception'], "RangeError('again 0')");
      assert.equal(seen.tasks[retried.id]?.state, 'SUCCESS');
      const sent = seen.events.find((e) => e['type'] === 'task-sent' && e['uuid'] === ok.id);
      assert.ok(sent, 'the client sent task-sent');
      assert.equal(sent['name'], 'tasks.add');
      assert.equal(sent['args'], '(2, 3)');
      assert.equal(sent['queue'], queue);
      const received = mine.find((e) => e['type'] === 'task-received' && e['uuid'] === ok.id)!;
      assert.equal(received['args'], '(2, 3)');
      assert.equal(received['root_id'], ok.id);
    } finally {
      receiver.kill();
    }
  });
});
