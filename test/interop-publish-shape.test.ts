/**
 * What our client puts on the wire: read back raw with amqplib (properties, the 16 v2
 * headers in Python's order, decodable body), and proven with the real Python worker
 * where amqplib's own integer guessing would break it (retries 200, timelimit [300, 200]:
 * int16 `s`, which py-amqp reads as a short string), plus countdown, expires and priority.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Celery, TaskError, silentLogger } from 'celery-gen';
import { decodeTaskMessage } from '../runtime/protocol/message.js';
import { createClient } from '../fixtures/interop/tasks.js';
import { BROKER_URL, brokerMissing, rawBroker, uniqueQueue, type RawBroker } from './support/broker.js';
import { PYTHON_V2_HEADER_ORDER } from './support/captures.js';
import { interopSkip, startPythonWorker, type PythonWorker } from './support/python.js';

const GET = { timeout: 15_000 };

describe('published message shape', { skip: await brokerMissing() }, () => {
  let broker: RawBroker;
  let app: Celery;
  const queue = uniqueQueue('shape');

  before(async () => {
    broker = await rawBroker();
    app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger });
  });

  after(async () => {
    await app.close();
    await broker.close([queue]);
  });

  test('delay() publishes what Python publishes: default exchange, persistent, 16 headers, [args, kwargs, embed]', async () => {
    const result = await createClient(app).hello.applyAsync(['Ann'], { punctuation: '?' });
    const message = await broker.channel.get(queue, { noAck: true });
    assert.ok(message, 'the message is in the queue');
    const { properties, fields } = message;
    assert.equal(fields.exchange, '');
    assert.equal(fields.routingKey, queue);
    assert.equal(properties.contentType, 'application/json');
    assert.equal(properties.contentEncoding, 'utf-8');
    assert.equal(properties.deliveryMode, 2);
    assert.equal(properties.priority, 0, 'Python sends priority 0 with default routing');
    assert.equal(properties.correlationId, result.id);
    assert.equal(properties.replyTo, app.results.queue);
    const headers = properties.headers ?? {};
    assert.deepEqual(Object.keys(headers), PYTHON_V2_HEADER_ORDER);
    assert.deepEqual(
      { ...headers, origin: undefined },
      {
        lang: 'py',
        task: 'tasks.hello',
        id: result.id,
        shadow: null,
        eta: null,
        expires: null,
        group: null,
        group_index: null,
        retries: 0,
        timelimit: [null, null],
        root_id: result.id,
        parent_id: null,
        argsrepr: "('Ann',)",
        kwargsrepr: "{'punctuation': '?'}",
        origin: undefined,
        ignore_result: false,
      },
    );
    assert.match(String(headers['origin']), new RegExp(`^gen${process.pid}@.+`));
    assert.equal(message.content.toString('utf8'), '[["Ann"], {"punctuation": "?"}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]');
    const request = decodeTaskMessage({
      body: message.content,
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      headers: properties.headers,
      correlationId: properties.correlationId,
      replyTo: properties.replyTo,
    });
    assert.equal(request.protocol, 2);
    assert.equal(request.task, 'tasks.hello');
    assert.deepEqual(request.args, ['Ann']);
    assert.deepEqual(request.kwargs, { punctuation: '?' });
  });

  test('countdown, expires, priority and time limits land in eta/expires headers and properties', async () => {
    const before = Date.now();
    await createClient(app).add.applyAsync([1, 2], {}, { countdown: 10, expires: 60, priority: 5, timeLimit: 300, softTimeLimit: 200, queue });
    const message = await broker.channel.get(queue, { noAck: true });
    assert.ok(message);
    const headers = message.properties.headers ?? {};
    const eta = Date.parse(String(headers['eta']));
    const expires = Date.parse(String(headers['expires']));
    assert.match(String(headers['eta']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    assert.ok(eta >= before + 10_000 && eta <= Date.now() + 10_000);
    assert.ok(expires >= before + 60_000 && expires <= Date.now() + 60_000);
    assert.deepEqual(headers['timelimit'], [300, 200]);
    assert.equal(message.properties.priority, 5);
    const ttl = Number(message.properties.expiration);
    assert.ok(ttl > 59_000 && ttl <= 60_000, `expiration ${ttl}`);
  });
});

describe('the Python worker accepts our wire types', { skip: await interopSkip() }, () => {
  const queue = uniqueQueue('shape_py');
  let worker: PythonWorker;
  let app: Celery;

  before(async () => {
    worker = await startPythonWorker(queue);
    app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger });
  });

  after(async () => {
    await app?.close();
    await worker?.stop();
    const broker = await rawBroker();
    await broker.close([queue]);
  });

  test('retries 200 and timelimit [300, 200] (amqplib would write int16) run and report back', async () => {
    const id = randomUUID();
    const result = app.results.track<Record<string, unknown>>(id);
    await app.publisher.publish(
      {
        id,
        task: 'tasks.whoami',
        args: ['int16'],
        kwargs: {},
        replyTo: await app.results.ensure(),
        origin: app.publisher.origin,
        retries: 200,
        timeLimit: [300, 200],
      },
      { queue, exchange: '', routingKey: queue },
    );
    assert.deepEqual(await result.get(GET), { id, retries: 200, tag: 'int16', name: 'tasks.whoami' });
    assert.doesNotMatch(worker.logs(), /FrameSyntaxError|Connection to broker lost/);
  });

  test('countdown is honoured, and a task past its expiry is REVOKED', async () => {
    const tasks = createClient(app);
    const started = Date.now();
    const delayed = await tasks.add.applyAsync([2, 2], {}, { countdown: 1 });
    const expired = await tasks.add.applyAsync([3, 3], {}, { countdown: 1.5, expires: 0.5 });
    assert.equal(await delayed.get(GET), 4);
    assert.ok(Date.now() - started >= 950, 'the eta was honoured');
    const error = await expired.get(GET).then(
      () => assert.fail('expected REVOKED'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError);
    assert.equal(error.state, 'REVOKED');
    assert.equal(error.excType, 'TaskRevokedError');
  });
});
