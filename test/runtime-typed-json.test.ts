/**
 * The app's `typedJson` option: for peers on Celery 5.3+, dates and bytes travel in kombu's
 * `{"__type__", "__value__"}` envelopes, written as Celery 5.6.3 writes them (the captured
 * body in fixtures/messages/celery-5.6), and read back into what the generated types
 * promise. Off (the default), bytes are refused at publish, since a 5.2 peer cannot read them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Celery, defineTask, implementTask, silentLogger } from 'celery-gen';
import { BROKER_URL, brokerMissing, rawBroker, uniqueQueue, waitFor, type RawBroker } from './support/broker.js';

const echo = defineTask<[...values: unknown[]], Record<string, never>, unknown[]>({
  name: 'tasks.echo_values',
  bind: false,
  params: [{ name: 'values', kind: 'var_positional', required: false, type: { type: 'unknown' } }],
  options: {},
});

const RAW = new Uint8Array([0, 1, 0x72, 0x61, 0x77]); // b'\x00\x01raw'
const NOT_UTF8 = new Uint8Array([0xff, 0xfe, 0x00, 0x62, 0x69, 0x6e]); // b'\xff\xfe\x00bin'
const WHEN = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123));

describe('typedJson: kombu 5.3+ envelopes', { skip: await brokerMissing() }, () => {
  let broker: RawBroker;
  const queue = uniqueQueue('typed_json');
  const apps: Celery[] = [];
  const newApp = (typedJson: boolean) => {
    const app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger, typedJson });
    apps.push(app);
    return app;
  };

  before(async () => {
    broker = await rawBroker();
  });
  after(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await broker.close([queue]);
  });

  test('task bodies carry the envelopes exactly as Celery 5.6.3 writes them', async () => {
    const app = newApp(true);
    await app.sendTask(echo.name, [RAW, NOT_UTF8, WHEN], {}, {}, echo);
    let body = '';
    await waitFor(async () => {
      const message = await broker.channel.get(queue, { noAck: true });
      if (message) body = message.content.toString('utf8');
      return message !== false;
    }, 5000, 'the published message');
    const captured = JSON.parse(readFileSync(new URL('../fixtures/messages/celery-5.6/v2-task-rich-types.json', import.meta.url), 'utf8')) as {
      messages: { body_raw: string }[];
    };
    const pythonArgs = captured.messages[0]!.body_raw;
    // The same values, byte for byte as Python's json.dumps wrote them.
    assert.ok(pythonArgs.includes('{"__type__": "bytes", "__value__": "\\u0000\\u0001raw"}'));
    assert.ok(body.startsWith('[[{"__type__": "bytes", "__value__": "\\u0000\\u0001raw"}, {"__type__": "base64", "__value__": "//4AYmlu"}, '), body);
    assert.ok(pythonArgs.includes('{"__type__": "base64", "__value__": "//4AYmlu"}'));
    assert.match(body, /\{"__type__": "datetime", "__value__": "2024-05-06T07:08:09\.123000\+00:00"\}/);
  });

  test('a TS worker reads them back: bytes as Uint8Array, datetimes as ISO text, and answers in envelopes', async () => {
    const app = newApp(true);
    let received: unknown[] = [];
    const worker = app.createWorker([implementTask(echo, (values: unknown[]) => ((received = values), values))], { handleSignals: false });
    await worker.start();
    const result = await app.sendTask(echo.name, [RAW, WHEN], {}, {}, echo);
    const values = (await result.get({ timeout: 10_000 })) as unknown[];
    await worker.stop();
    assert.ok(received[0] instanceof Uint8Array);
    assert.deepEqual([...(received[0] as Uint8Array)], [...RAW]);
    assert.equal(received[1], '2024-05-06T07:08:09.123000+00:00');
    assert.ok(values[0] instanceof Uint8Array, 'the result came back as bytes, so the reply used an envelope');
    assert.deepEqual([...(values[0] as Uint8Array)], [...RAW]);
  });

  test('off by default: bytes are refused before anything is published', async () => {
    const app = newApp(false);
    await assert.rejects(app.sendTask(echo.name, [RAW], {}, {}, echo), /bytes|Uint8Array/i);
  });
});
