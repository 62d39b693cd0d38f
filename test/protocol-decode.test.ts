// Every task message and result a real Python Celery (5.2.6 and 5.6.3) published decodes;
// every bad input the team threw at Python's worker gives its defined ProtocolError.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindArguments } from '../runtime/protocol/arguments.js';
import { ArgumentError, ProtocolError, type ProtocolErrorCode } from '../runtime/protocol/errors.js';
import { decodeResult, decodeTaskMessage, encodeResult, notRegisteredMeta, parseIso, type IncomingMessage } from '../runtime/protocol/message.js';
import type { TaskSpec } from '../runtime/protocol/spec.js';
import {
  bodyBytes,
  CAPTURE_DIRS,
  captureFiles,
  loadCapture,
  toIncoming,
  unwrapCaptureBytes,
  type CapturedMessage,
  type CapturedProperties,
} from './support/captures.js';

function isProtocolError(code: ProtocolErrorCode, extra?: (e: ProtocolError) => void) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    extra?.(error);
    return true;
  };
}

/** The body as kombu 5.2 (plain json.loads) parsed it, with 5.3+ envelopes as this runtime converts them. */
function expectedArgs(message: CapturedMessage): { args: unknown; kwargs: unknown } {
  const body = unwrapCaptureBytes(message.body_parsed);
  if (Array.isArray(body)) return { args: body[0], kwargs: body[1] };
  const record = body as Record<string, unknown>;
  return { args: record['args'], kwargs: record['kwargs'] };
}

const hasEnvelope = (m: CapturedMessage): boolean => (m.body_raw ?? '').includes('__type__');

describe('task messages published by Python decode', () => {
  for (const dir of CAPTURE_DIRS) {
    for (const file of captureFiles(dir).filter((f) => /^v[12]-task-/.test(f))) {
      const capture = loadCapture(`${dir}/${file}`);
      const messages = capture.messages ?? [];
      if (messages.length === 0) {
        test(`skipped ${dir}/${file}: Python published nothing (${(capture.python_exception ?? '').split('\n')[0]})`, () => {
          assert.equal(messages.length, 0);
          assert.match(String(capture.python_exception), /Error/);
        });
        continue;
      }
      test(`${dir}/${file}`, () => {
        for (const message of messages) {
          const request = decodeTaskMessage(toIncoming(message));
          const headers = message.headers ?? {};
          const v1 = file.startsWith('v1-');
          const source = v1 ? (message.body_parsed as Record<string, unknown>) : headers;
          assert.equal(request.protocol, v1 ? 1 : 2);
          assert.equal(request.id, source['id']);
          assert.equal(request.task, source['task']);
          assert.equal(request.retries, source['retries']);
          assert.equal(request.eta, source['eta'] ?? null);
          assert.equal(request.expires, source['expires'] ?? null);
          assert.deepEqual(request.timeLimit, source['timelimit'] ?? [null, null]);
          assert.equal(request.group, source['group'] ?? null);
          assert.equal(request.groupIndex, source['group_index'] ?? null);
          assert.equal(request.correlationId, message.properties.correlation_id);
          assert.equal(request.replyTo, message.properties.reply_to);
          assert.equal(request.priority, message.properties.priority);
          assert.deepEqual(request.deliveryInfo, {
            exchange: message.delivery_info.exchange,
            routingKey: message.delivery_info.routing_key,
            redelivered: message.delivery_info.redelivered,
          });
          if (!v1) {
            assert.equal(request.rootId, headers['root_id']);
            assert.equal(request.parentId, headers['parent_id']);
            assert.equal(request.argsrepr, headers['argsrepr']);
            assert.equal(request.kwargsrepr, headers['kwargsrepr']);
            assert.equal(request.origin, headers['origin']);
            assert.equal(request.ignoreResult, headers['ignore_result']);
          }
          if (!hasEnvelope(message)) {
            const expected = expectedArgs(message);
            assert.deepEqual(request.args, expected.args);
            assert.deepEqual(request.kwargs, expected.kwargs);
          }
          if (!v1) {
            const embed = (message.body_parsed as unknown[])[2] as Record<string, unknown>;
            assert.deepEqual(request.embed, { callbacks: embed['callbacks'], errbacks: embed['errbacks'], chain: embed['chain'], chord: embed['chord'] });
          } else {
            const body = message.body_parsed as Record<string, unknown>;
            assert.deepEqual(request.embed.callbacks, body['callbacks']);
            assert.equal(request.embed.chain, null);
          }
        }
      });
    }
  }

  test('5.2 rich arguments arrive as the strings kombu 5.2 wrote', () => {
    const [message] = loadCapture('celery-5.2/v2-task-special-args.json').messages ?? [];
    assert.ok(message);
    const request = decodeTaskMessage(toIncoming(message));
    assert.deepEqual(request.args, [
      '2024-05-06T07:08:09.123456Z',
      '2024-05-06T07:08:09',
      '2024-05-06T00:00:00',
      '12345678-1234-5678-1234-567812345678',
      '3.14',
      'héllo ✓ 日本語 🎉',
    ]);
    assert.deepEqual(request.kwargs, { u: 'ünï' });
  });

  test('5.6 typed envelopes become the values the generated types promise', () => {
    const [message] = loadCapture('celery-5.6/v2-task-rich-types.json').messages ?? [];
    assert.ok(message);
    const request = decodeTaskMessage(toIncoming(message));
    assert.deepEqual(request.args, [
      '2024-05-06T07:08:09.123456+00:00',
      '2024-05-06T07:08:09',
      '2024-05-06T07:08:09+02:00',
      '2024-05-06',
      '07:08:09.000500',
      '3.14',
      '12345678-1234-5678-1234-567812345678',
      new Uint8Array([0, 1, 0x72, 0x61, 0x77]),
      new Uint8Array(Buffer.from('abc')),
      new Uint8Array([0xff, 0xfe, 0x00, 0x62, 0x69, 0x6e]),
      'héllo ✓ 日本語 🎉',
    ]);
    assert.deepEqual(request.kwargs, { when: '2030-01-02', amount: '-0.5', u: 'ünï' });
  });

  test('5.6 stamping headers are kept, not required', () => {
    const [message] = loadCapture('celery-5.6/v2-task-stamped.json').messages ?? [];
    assert.ok(message);
    const request = decodeTaskMessage(toIncoming(message));
    assert.deepEqual(request.headers['stamped_headers'], (message.headers ?? {})['stamped_headers']);
    assert.deepEqual(request.headers['stamps'], (message.headers ?? {})['stamps']);
    assert.equal(request.headers['replaced_task_nesting'], 0);
  });

  test('msgpack bodies decode, bytes included', () => {
    const [message] = loadCapture('celery-5.2/v2-task-msgpack-bytes-arg.json').messages ?? [];
    assert.ok(message);
    const request = decodeTaskMessage(toIncoming(message));
    assert.deepEqual(request.args, [
      new Uint8Array([0, 1, 0x72, 0x61, 0x77]),
      'héllo ✓',
      1.5,
      null,
      true,
      -7,
      2 ** 40,
      [1, [2]],
      { k: new Uint8Array([0x76]) },
    ]);
  });
});

describe('results published by Python decode', () => {
  for (const dir of CAPTURE_DIRS) {
    for (const file of captureFiles(dir).filter((f) => f.startsWith('rpc-result-'))) {
      test(`${dir}/${file}`, () => {
        const capture = loadCapture(`${dir}/${file}`);
        const messages = capture.messages_in_order ?? [];
        assert.ok(messages.length > 0);
        for (const message of messages) {
          const meta = decodeResult(bodyBytes(message), message.properties.content_type ?? undefined, message.properties.content_encoding ?? undefined);
          const parsed = message.body_parsed as Record<string, unknown>;
          assert.equal(meta.task_id, parsed['task_id']);
          assert.equal(meta.status, parsed['status']);
          assert.equal(meta.traceback, parsed['traceback']);
          assert.deepEqual(meta.children, parsed['children']);
          if (!hasEnvelope(message)) assert.deepEqual(meta.result, parsed['result']);
          // Re-encoding gives Python's bytes back (key order, separators, escaping), except
          // that a JS number cannot remember that Python wrote an integral float as `3.0`.
          if (!hasEnvelope(message)) {
            const again = encodeResult(meta).body.toString('utf8');
            if (/\d\.0\b/.test(message.body_raw ?? '')) assert.equal(again, (message.body_raw ?? '').replace(/(\d)\.0\b/g, '$1'));
            else assert.equal(again, message.body_raw);
          }
        }
      });
    }
    for (const file of captureFiles(dir).filter((f) => f.startsWith('redis-backend-'))) {
      test(`${dir}/${file} (redis value)`, () => {
        const capture = loadCapture(`${dir}/${file}`);
        const meta = decodeResult(Buffer.from(capture['value_raw'] as string), 'application/json');
        const parsed = capture['value_parsed'] as Record<string, unknown>;
        assert.equal(meta.task_id, parsed['task_id']);
        assert.equal(meta.status, parsed['status']);
        assert.equal(meta.date_done, parsed['date_done']);
      });
    }
  }

  test('5.6 rich result values are converted like task arguments', () => {
    const messages = loadCapture('celery-5.6/rpc-result-success-rich-types.json').messages_in_order ?? [];
    const last = messages[messages.length - 1];
    assert.ok(last);
    const meta = decodeResult(bodyBytes(last), 'application/json');
    assert.deepEqual(meta.result, [
      '2024-05-06T07:08:09.123456+00:00',
      '2024-05-06T07:08:09',
      '2024-05-06',
      '07:08:09.000500',
      '3.14',
      '12345678-1234-5678-1234-567812345678',
      new Uint8Array([0, 1, 0x72, 0x61, 0x77]),
      new Uint8Array(Buffer.from('abc')),
      new Uint8Array([0xff, 0xfe, 0x00, 0x62, 0x69, 0x6e]),
    ]);
  });
});

interface BadInputCapture {
  published: { properties: CapturedProperties; headers: Record<string, unknown> | null; body_raw: string | null; body_base64: string | null };
  worker_alive_after: boolean;
  replies_on_reply_to_queue: CapturedMessage[];
}

function badInput(name: string): { capture: BadInputCapture; incoming: IncomingMessage } {
  const capture = loadCapture(`celery-5.2/bad-input-${name}.json`) as unknown as BadInputCapture;
  const p = capture.published;
  return {
    capture,
    incoming: {
      body: bodyBytes(p),
      contentType: p.properties.content_type ?? undefined,
      contentEncoding: p.properties.content_encoding ?? undefined,
      headers: p.headers,
      correlationId: p.properties.correlation_id ?? undefined,
      replyTo: p.properties.reply_to ?? undefined,
    },
  };
}

describe('bad input that Python Celery 5.2.6 met (captures README §4)', () => {
  const withTask = (e: ProtocolError): void => {
    assert.equal(e.taskName, 'proj.tasks.add');
    assert.match(e.taskId ?? '', /^[0-9a-f-]{36}$/);
  };
  const cases: [name: string, code: ProtocolErrorCode, check: (e: ProtocolError) => void][] = [
    ['body-json-four-element-list', 'BAD_BODY', withTask],
    ['body-json-two-element-list', 'BAD_BODY', withTask],
    ['body-json-string', 'BAD_BODY', withTask],
    ['body-json-object-no-args', 'BAD_BODY', withTask],
    ['body-not-json', 'NOT_JSON', withTask],
    ['missing-id-header', 'MISSING_HEADER', (e) => assert.equal(e.taskName, 'proj.tasks.add')],
    ['missing-task-header', 'NOT_A_TASK', () => undefined],
    ['no-headers-at-all', 'NOT_A_TASK', () => undefined],
    ['pickle-not-accepted', 'UNSUPPORTED_CONTENT_TYPE', (e) => assert.match(e.message, /pickle is refused: it would run arbitrary code; publish with serializer='json'/)],
    ['unknown-content-type', 'UNSUPPORTED_CONTENT_TYPE', (e) => assert.match(e.message, /text\/plain/)],
  ];
  for (const [name, code, check] of cases) {
    test(`${name} → ${code}`, () => {
      const { incoming } = badInput(name);
      assert.throws(() => decodeTaskMessage(incoming), isProtocolError(code, check));
    });
  }

  test('a body over maxBodyBytes is TOO_LARGE, before parsing, with the id from the headers', () => {
    const { incoming } = badInput('control-valid-message');
    assert.throws(
      () => decodeTaskMessage(incoming, { maxBodyBytes: 10 }),
      isProtocolError('TOO_LARGE', (e) => {
        withTask(e);
        assert.match(e.message, /exceeds the limit of 10 bytes/);
      }),
    );
  });

  test('header values that arrive as AMQP byte arrays are read as text', () => {
    const { incoming } = badInput('control-valid-message');
    const headers = { ...(incoming.headers ?? {}), task: Buffer.from('proj.tasks.add'), id: Buffer.from('0b4c0c39-0000-4000-8000-000000000000') };
    const request = decodeTaskMessage({ ...incoming, headers });
    assert.equal(request.task, 'proj.tasks.add');
    assert.equal(request.id, '0b4c0c39-0000-4000-8000-000000000000');
    assert.throws(() => decodeTaskMessage({ ...incoming, headers: { ...headers, task: Buffer.from([0xff]) } }), isProtocolError('BAD_HEADER'));
  });

  const headerRefusals: [string, Record<string, unknown>, ProtocolErrorCode][] = [
    ['retries as a string', { retries: '1' }, 'BAD_HEADER'],
    ['negative retries', { retries: -1 }, 'BAD_HEADER'],
    ['an eta Python cannot parse', { eta: 'tomorrow' }, 'BAD_HEADER'],
    ["an empty eta (Celery 5.2's Request crashes on it)", { eta: '' }, 'BAD_HEADER'],
    ['an eta on February 30th', { eta: '2026-02-30T00:00:00' }, 'BAD_HEADER'],
    ['a timelimit of one element', { timelimit: [1] }, 'BAD_HEADER'],
    ['ignore_result as a string', { ignore_result: 'yes' }, 'BAD_HEADER'],
    ['a task name that is null', { task: null }, 'BAD_HEADER'],
    ['an empty id', { id: '' }, 'BAD_HEADER'],
    ['a numeric root_id', { root_id: 5 }, 'BAD_HEADER'],
  ];
  for (const [name, patch, code] of headerRefusals) {
    test(`${name} → ${code}`, () => {
      const { incoming } = badInput('control-valid-message');
      assert.throws(() => decodeTaskMessage({ ...incoming, headers: { ...(incoming.headers ?? {}), ...patch } }), isProtocolError(code));
    });
  }

  test('eta and expires in the forms Python peers write are read as instants (naive = UTC)', () => {
    const { incoming } = badInput('control-valid-message');
    const read = (eta: string): string | null => decodeTaskMessage({ ...incoming, headers: { ...(incoming.headers ?? {}), eta } }).eta;
    for (const eta of ['2026-11-28', '2026-11-28T18:20:18', '2026-11-28T18:20:18.920616+00:00', '2026-11-28T18:20:18Z', '2026-11-28 18:20', '2026-11-28T20:20:18+0200']) {
      assert.equal(read(eta), eta);
    }
    assert.equal(parseIso('2026-11-28T20:20:18.5+02:00'), Date.UTC(2026, 10, 28, 18, 20, 18, 500));
    assert.equal(parseIso('2026-11-28'), Date.UTC(2026, 10, 28));
  });

  test('a hybrid body (dict with args/kwargs) is a task, as Python runs it', () => {
    const { incoming, capture } = badInput('body-json-object');
    const request = decodeTaskMessage(incoming);
    assert.deepEqual(request.args, [2, 3]);
    assert.deepEqual(request.kwargs, {});
    assert.equal(request.task, 'proj.tasks.add');
    assert.ok(capture.replies_on_reply_to_queue.some((r) => (r.body_parsed as Record<string, unknown>)['status'] === 'SUCCESS'));
  });

  test('the control message decodes', () => {
    const request = decodeTaskMessage(badInput('control-valid-message').incoming);
    assert.deepEqual(request.args, [2, 3]);
  });

  test('an unregistered task decodes; its NotRegistered FAILURE is byte-identical to Python\'s', () => {
    const { incoming, capture } = badInput('unregistered-task');
    const request = decodeTaskMessage(incoming);
    const [reply] = capture.replies_on_reply_to_queue;
    assert.ok(reply);
    assert.equal(encodeResult(notRegisteredMeta(request.id, request.task)).body.toString('utf8'), reply.body_raw);
  });

  test('a wrong argument count decodes and binds to the TypeError Python replied', () => {
    const { incoming, capture } = badInput('wrong-arg-count');
    const request = decodeTaskMessage(incoming);
    const spec: TaskSpec = {
      name: request.task,
      bind: false,
      options: {},
      params: [
        { name: 'x', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } },
        { name: 'y', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } },
      ],
    };
    const failure = capture.replies_on_reply_to_queue.map((r) => r.body_parsed as Record<string, unknown>).find((r) => r['status'] === 'FAILURE');
    assert.ok(failure);
    const pythonResult = failure['result'] as { exc_type: string; exc_message: string[] };
    assert.throws(
      () => bindArguments(spec, request.args, request.kwargs),
      (e: unknown) => e instanceof ArgumentError && e.pythonType === pythonResult.exc_type && e.message === pythonResult.exc_message[0],
    );
  });
});

describe('hand-built envelopes sent to a Celery 5.6 worker (compat-cross-version.json)', () => {
  const compat = loadCapture('celery-5.6/compat-cross-version.json');
  const raw = compat['c_raw_to_new_worker'] as Record<string, { body_raw: string; headers_sent: Record<string, unknown>; replies: unknown[] }>;
  const incoming = (name: string): IncomingMessage => {
    const c = raw[name];
    assert.ok(c);
    return { body: Buffer.from(c.body_raw), contentType: 'application/json', contentEncoding: 'utf-8', headers: c.headers_sent };
  };

  test('plain 5.2 strings stay strings (the 5.6 worker saw builtins.str)', () => {
    assert.deepEqual(decodeTaskMessage(incoming('plain-iso-strings-5.2-style')).args, [
      '2024-05-06T07:08:09.123456Z',
      '2024-05-06T07:08:09',
      '2024-05-06T00:00:00',
      '3.14',
      '12345678-1234-5678-1234-567812345678',
    ]);
  });

  test('hand-built envelopes decode as the 5.6 worker decoded them', () => {
    assert.deepEqual(decodeTaskMessage(incoming('envelopes-hand-built')).args, [
      '2024-05-06T07:08:09.123456Z',
      '2024-05-06',
      '3.14',
      '12345678-1234-5678-1234-567812345678',
      new Uint8Array(Buffer.from('abc')),
      new Uint8Array([0, 1, 0x72, 0x61, 0x77]),
    ]);
  });

  test('an object with a third key is a plain dict, as kombu passes it through', () => {
    const request = decodeTaskMessage(incoming('envelope-extra-key'));
    const body = JSON.parse(raw['envelope-extra-key']?.body_raw ?? '') as unknown[];
    assert.deepEqual(request.args, body[0]);
  });

  for (const name of ['envelope-uuid-as-string', 'envelope-unknown-type']) {
    test(`${name} is BAD_BODY (the 5.6 worker could not decode it and sent nothing)`, () => {
      assert.equal(raw[name]?.replies.length, 0);
      assert.throws(() => decodeTaskMessage(incoming(name)), isProtocolError('BAD_BODY', (e) => assert.ok(e.taskId)));
    });
  }
});
