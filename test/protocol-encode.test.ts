// encodeTaskMessage writes what Python Celery writes: checked field by field against every
// captured v2 task message (headers and their order, argsrepr/kwargsrepr, properties with
// priority presence and expiration, body bytes), and the AMQP header table byte for byte.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { ProtocolError } from '../runtime/protocol/errors.js';
import { decodeTaskMessage, encodeTaskMessage, type Embed, type TaskMessageInput } from '../runtime/protocol/message.js';
import { bodyBytes, CAPTURE_DIRS, captureFiles, loadCapture, PYTHON_V2_HEADER_ORDER, unwrapCaptureBytes, type CapturedMessage } from './support/captures.js';

const require = createRequire(import.meta.url);
const codec = require('amqplib/lib/codec') as { encodeTable(buffer: Buffer, value: unknown, offset: number): number };


/** The apply_async() inputs that produced a captured message. */
function inputFor(message: CapturedMessage): TaskMessageInput {
  const h = message.headers ?? {};
  const body = unwrapCaptureBytes(message.body_parsed) as [unknown[], Record<string, unknown>, Partial<Embed>];
  const extra = Object.fromEntries(Object.entries(h).filter(([k]) => !PYTHON_V2_HEADER_ORDER.includes(k)));
  const expires = h['expires'] as string | null;
  const input: TaskMessageInput = {
    id: h['id'] as string,
    task: h['task'] as string,
    args: body[0],
    kwargs: body[1],
    embed: body[2],
    replyTo: message.properties.reply_to ?? '',
    origin: h['origin'] as string,
    eta: h['eta'] as string | null,
    expires,
    retries: h['retries'] as number,
    timeLimit: h['timelimit'] as [number | null, number | null],
    rootId: h['root_id'] as string,
    parentId: h['parent_id'] as string | null,
    group: h['group'] as string | null,
    groupIndex: h['group_index'] as number | null,
    shadow: h['shadow'] as string | null,
    ignoreResult: h['ignore_result'] as boolean,
    // Python writes a list repr for send_task(args=[…]) / apply_async(args=[…]), a tuple repr for delay().
    argsReprStyle: String(h['argsrepr']).startsWith('[') ? 'list' : 'tuple',
    serializer: message.properties.content_type === 'application/x-msgpack' ? 'msgpack' : 'json',
    // Python derived the expiration from expires=60 at publish time.
    now: expires === null ? new Date() : new Date(Date.parse(expires) - 60_000),
    ...(message.properties.priority === null ? {} : { priority: message.properties.priority }),
    ...(Object.keys(extra).length > 0 ? { extraHeaders: extra } : {}),
  };
  return input;
}

/** 5.3+ typed envelopes and Python-only reprs (datetime, Decimal) cannot come from JS values. */
const pythonOnlyValues = (m: CapturedMessage): boolean => /__type__|datetime\.|Decimal\(/.test((m.body_raw ?? '') + String((m.headers ?? {})['argsrepr']));

describe('encodeTaskMessage matches the captured Python messages', () => {
  for (const dir of CAPTURE_DIRS) {
    for (const file of captureFiles(dir).filter((f) => f.startsWith('v2-task-'))) {
      const messages = loadCapture(`${dir}/${file}`).messages ?? [];
      if (messages.length === 0) continue; // nothing published: covered by protocol-decode's skip tests
      test(`${dir}/${file}`, () => {
        for (const message of messages) {
          const out = encodeTaskMessage(inputFor(message));
          const captured = message.headers ?? {};
          // Headers: same keys in the same order, same values.
          assert.deepEqual(Object.keys(out.headers), Object.keys(captured));
          for (const key of Object.keys(captured)) {
            if (pythonOnlyValues(message) && (key === 'argsrepr' || key === 'kwargsrepr')) continue;
            assert.deepEqual(out.headers[key], captured[key], `header ${key}`);
          }
          // Properties, with priority present exactly when Python sent it.
          const p = message.properties;
          assert.equal(out.properties.contentType, p.content_type);
          assert.equal(out.properties.contentEncoding, p.content_encoding);
          assert.equal(out.properties.correlationId, p.correlation_id);
          assert.equal(out.properties.replyTo, p.reply_to);
          assert.equal(out.properties.deliveryMode, p.delivery_mode);
          assert.equal('priority' in out.properties, p.priority !== null);
          if (p.priority !== null) assert.equal(out.properties.priority, p.priority);
          assert.equal(out.properties.expiration, captured['expires'] == null ? undefined : '60000');
          // Body bytes.
          if (!pythonOnlyValues(message)) assert.deepEqual(out.body, bodyBytes(message));
          // And it reads back as the same request.
          const back = decodeTaskMessage({ body: out.body, contentType: out.properties.contentType, contentEncoding: out.properties.contentEncoding, headers: out.headers });
          assert.equal(back.id, captured['id']);
        }
      });
    }
  }

  test('the AMQP header table is byte-identical to the one Python sent (wire-header-types.json)', () => {
    const wire = loadCapture('celery-5.2/wire-header-types.json')['cases'] as {
      label: string;
      header_frame_payload_hex: string;
      parsed: { typed_headers: Record<string, { t: string; v: unknown }>; reply_to: string; priority: number };
    }[];
    for (const c of wire.filter((w) => w.label !== 'v2-task-big-retries-header')) {
      const typed = c.parsed.typed_headers;
      const v = (key: string): unknown => {
        const t = typed[key];
        assert.ok(t);
        return t.t === 'A' ? (t.v as { v: unknown }[]).map((x) => x.v) : t.v;
      };
      const out = encodeTaskMessage({
        id: v('id') as string,
        task: v('task') as string,
        args: c.label.includes('hello') ? ['Ann'] : [2, 3],
        kwargs: c.label.includes('hello') ? { age: 30 } : {},
        argsReprStyle: c.label.includes('hello') ? 'list' : 'tuple',
        replyTo: c.parsed.reply_to,
        origin: v('origin') as string,
        eta: v('eta') as string | null,
        timeLimit: v('timelimit') as [number | null, number | null],
        priority: c.parsed.priority,
      });
      const frame = Buffer.from(c.header_frame_payload_hex, 'hex');
      let offset = 14;
      offset += 1 + (frame[offset] as number);
      offset += 1 + (frame[offset] as number);
      const pythonTable = frame.subarray(offset, offset + 4 + frame.readUInt32BE(offset));
      const buffer = Buffer.alloc(4096);
      const size = codec.encodeTable(buffer, out.wireHeaders, 0);
      assert.deepEqual(buffer.subarray(0, size), pythonTable, c.label);
    }
  });
});

describe('encodeTaskMessage formats and defaults', () => {
  const base: TaskMessageInput = { id: 'id-1', task: 'proj.tasks.add', args: [2, 3], kwargs: {}, replyTo: 'reply', origin: 'gen1@host' };

  test('a Date eta/expires is ISO with +00:00 and 6 fraction digits; expiration is the ms string Python writes', () => {
    const now = new Date('2026-11-28T18:20:18.920Z');
    const out = encodeTaskMessage({ ...base, eta: new Date('2026-11-28T18:20:28.920Z'), expires: new Date('2026-11-28T18:21:18Z'), now });
    assert.equal(out.headers['eta'], '2026-11-28T18:20:28.920000+00:00');
    assert.equal(out.headers['expires'], '2026-11-28T18:21:18.000000+00:00');
    assert.equal(out.properties.expiration, '59080');
    const past = encodeTaskMessage({ ...base, expires: new Date(now.getTime() - 5000), now });
    assert.equal(past.properties.expiration, '0');
  });

  test("a string eta keeps its meaning for Celery 5.2's parser: the fraction is padded to 6 digits", () => {
    assert.equal(encodeTaskMessage({ ...base, eta: '2026-11-28T18:20:18.92+00:00' }).headers['eta'], '2026-11-28T18:20:18.920000+00:00');
    assert.equal(encodeTaskMessage({ ...base, eta: '2026-11-28T18:20:18.920616+00:00' }).headers['eta'], '2026-11-28T18:20:18.920616+00:00');
    assert.equal(encodeTaskMessage({ ...base, expires: '2026-11-28T18:20:18.5' }).headers['expires'], '2026-11-28T18:20:18.500000');
    assert.equal(encodeTaskMessage({ ...base, eta: '2026-11-28' }).headers['eta'], '2026-11-28');
  });

  test('defaults: lang py, root_id = id, [null, null] time limits, empty embed, no priority, no expiration', () => {
    const out = encodeTaskMessage(base);
    assert.deepEqual(Object.keys(out.headers), PYTHON_V2_HEADER_ORDER);
    assert.equal(out.headers['lang'], 'py');
    assert.equal(out.headers['root_id'], 'id-1');
    assert.deepEqual(out.headers['timelimit'], [null, null]);
    assert.equal(out.headers['argsrepr'], '(2, 3)');
    assert.equal(out.body.toString(), '[[2, 3], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]');
    assert.equal('priority' in out.properties, false);
    assert.equal('expiration' in out.properties, false);
    assert.equal(out.properties.deliveryMode, 2);
  });

  test('typed JSON sends kombu 5.3+ envelopes for Date and bytes', () => {
    const out = encodeTaskMessage({ ...base, args: [new Date('2024-05-06T07:08:09.123Z'), new Uint8Array([0xff])], typedJson: true });
    assert.equal(
      out.body.toString(),
      '[[{"__type__": "datetime", "__value__": "2024-05-06T07:08:09.123000+00:00"}, {"__type__": "base64", "__value__": "/w=="}], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]',
    );
  });

  const refusals: [string, Partial<Record<keyof TaskMessageInput, unknown>>, string][] = [
    ['args not an array', { args: { 0: 1 } }, 'BAD_BODY'],
    ['kwargs an array', { kwargs: [1] }, 'BAD_BODY'],
    ['kwargs null', { kwargs: null }, 'BAD_BODY'],
    ['bytes without typed JSON (kombu 5.2 cannot carry them)', { args: [new Uint8Array([1])] }, 'BAD_BODY'],
    ['a circular argument', { args: (() => { const a: unknown[] = []; a.push(a); return a; })() }, 'BAD_BODY'],
    ['a Map argument', { args: [new Map()] }, 'BAD_BODY'],
    ['an argument nested deeper than Python can read', { args: [JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as unknown] }, 'BAD_BODY'],
    ['an unknown __type__ envelope (kombu 5.3+ would drop the message)', { args: [{ __type__: 'set', __value__: [] }] }, 'BAD_BODY'],
    ['an empty id', { id: '' }, 'BAD_HEADER'],
    ['a missing task name', { task: undefined }, 'BAD_HEADER'],
    ['negative retries', { retries: -1 }, 'BAD_HEADER'],
    ['fractional retries', { retries: 1.5 }, 'BAD_HEADER'],
    ['priority 300', { priority: 300 }, 'BAD_HEADER'],
    ['an eta that Python cannot parse', { eta: 'tomorrow' }, 'BAD_HEADER'],
    ["an offset without a colon (Celery 5.2 would silently drop it)", { eta: '2026-11-28T18:20:18+0200' }, 'BAD_HEADER'],
    ['a fraction of 7 digits (Celery 5.2: microsecond out of range)', { eta: '2026-11-28T18:20:18.1234567Z' }, 'BAD_HEADER'],
    ['an invalid Date', { expires: new Date(NaN) }, 'BAD_HEADER'],
    ['an eta beyond year 9999', { eta: new Date('+010000-01-01T00:00:00Z') }, 'BAD_HEADER'],
    ['a Date argument before year 1', { args: [new Date('-000001-01-01T00:00:00Z')] }, 'BAD_BODY'],
    ['a three-element time limit', { timeLimit: [1, 2, 3] }, 'BAD_HEADER'],
    ['extra headers replacing id', { extraHeaders: { id: 'other' } }, 'BAD_HEADER'],
    ['a binary extra header', { extraHeaders: { blob: Buffer.from('x') } }, 'BAD_HEADER'],
    ['a chain that is not a list of signatures', { embed: { chain: 'add' } }, 'BAD_BODY'],
    ['a chain step without a task name', { embed: { chain: [{ args: [] }] } }, 'BAD_BODY'],
    ['extra headers that make retries a string', { extraHeaders: { retries: 'x' } }, 'BAD_HEADER'],
    ['extra headers with an unparsable expires', { extraHeaders: { expires: 'soon' } }, 'BAD_HEADER'],
    ['the pickle serializer', { serializer: 'pickle' }, 'BAD_BODY'],
  ];
  for (const [name, patch, code] of refusals) {
    test(`refuses to publish ${name}: ${code}`, () => {
      assert.throws(
        () => encodeTaskMessage({ ...base, ...patch } as TaskMessageInput),
        (e: unknown) => e instanceof ProtocolError && e.code === code && e.taskId === (typeof patch.id === 'string' ? patch.id : 'id-1'),
      );
    });
  }

  test('an undefined keyword is not sent, in the body or in kwargsrepr', () => {
    const out = encodeTaskMessage({ ...base, kwargs: { age: undefined, name: 'Ann' } });
    assert.equal(out.headers['kwargsrepr'], "{'name': 'Ann'}");
    assert.match(out.body.toString(), /, \{"name": "Ann"\}, /);
  });

  test('__proto__ in kwargs is sent as an ordinary key', () => {
    const kwargs = JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}') as Record<string, unknown>;
    const out = encodeTaskMessage({ ...base, kwargs });
    assert.match(out.body.toString(), /\{"__proto__": \{"polluted": true\}, "constructor": 1\}/);
    assert.equal(out.headers['kwargsrepr'], "{'__proto__': {'polluted': True}, 'constructor': 1}");
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
