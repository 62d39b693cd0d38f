// Property-based checks of the pure protocol layer (fast-check, fixed seed, 15,000+ runs):
// what we encode decodes back to the same thing, and whatever bytes, JSON or headers
// arrive, the decoders return a well-formed value or throw a ProtocolError, nothing else.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bindArguments } from '../runtime/protocol/arguments.js';
import { ArgumentError, ProtocolError } from '../runtime/protocol/errors.js';
import { decodeJson, encodeJson } from '../runtime/protocol/kombu-json.js';
import { decodeMsgpack, encodeMsgpack } from '../runtime/protocol/msgpack.js';
import { decodeResult, decodeTaskMessage, encodeResult, encodeTaskMessage, headersJson, isPlainObject, successMeta, type TaskMessageInput } from '../runtime/protocol/message.js';
import { pyRepr, safeRepr } from '../runtime/protocol/pyrepr.js';
import type { ParamSpec, TaskSpec, WireType } from '../runtime/protocol/spec.js';
import { toWireHeaders } from '../runtime/protocol/wire-headers.js';

const require = createRequire(import.meta.url);
const codec = require('amqplib/lib/codec') as {
  encodeTable(buffer: Buffer, value: unknown, offset: number): number;
  decodeFields(slice: Buffer): Record<string, unknown>;
};

const SEED = 20261128;
function run<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns: number): void {
  fc.assert(property, { seed: SEED, numRuns });
}

const text = fc.string({ unit: 'binary', maxLength: 30 });
const key = fc.oneof(text, fc.constantFrom('__proto__', 'constructor', 'prototype', '__type__', '__value__', 'toString', 'hasOwnProperty'));
const json = fc.jsonValue({ maxDepth: 4 });
const kwargs = fc.dictionary(key, json, { maxKeys: 5, noNullPrototype: true });
/** Without the exact {__type__, __value__} pair, which the encoder refuses (kombu 5.3+ would read it as a typed value). */
const roundTripKwargs = fc.dictionary(key, json, { maxKeys: 5, noNullPrototype: true }).filter((k) => !(Object.hasOwn(k, '__type__') && Object.hasOwn(k, '__value__')));
const isoDate = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
const optionalId = fc.option(fc.uuid(), { nil: null });

/** The header-bearing fields of a task message input, as the round trips draw them. */
const HEADER_FIELDS = {
  id: fc.uuid(),
  task: fc.stringMatching(/^[a-z_][a-z0-9_.]{0,40}$/),
  replyTo: fc.oneof(fc.constant(''), fc.uuid()),
  origin: text,
  eta: fc.option(isoDate, { nil: null }),
  expires: fc.option(isoDate, { nil: null }),
  retries: fc.nat(2 ** 40),
  timeLimit: fc.tuple(fc.option(fc.nat(100_000), { nil: null }), fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: null })),
  rootId: optionalId,
  parentId: optionalId,
  group: optionalId,
  groupIndex: fc.option(fc.nat(1000), { nil: null }),
  shadow: fc.option(text, { nil: null }),
  ignoreResult: fc.boolean(),
};

/** Values only a 5.3+ typed-JSON peer can receive. */
const typedOnly = fc.oneof(fc.uint8Array({ maxLength: 16 }), isoDate);

function expectProtocolError(error: unknown): void {
  if (!(error instanceof ProtocolError)) throw error;
}

describe('round trips', () => {
  test("headersJson (the Redis envelope's header fast path) writes what encodeJson writes, with and without extra headers", () => {
    run(
      fc.property(
        fc.record({
          ...HEADER_FIELDS,
          args: fc.array(json, { maxLength: 4 }),
          kwargs: roundTripKwargs,
          lang: fc.option(text, { nil: undefined }),
          extraHeaders: fc.option(fc.dictionary(fc.stringMatching(/^x_[a-z]{1,8}$/), json, { maxKeys: 3, noNullPrototype: true }), { nil: undefined }),
        }),
        (raw) => {
          const { lang, extraHeaders, ...rest } = raw;
          const input: TaskMessageInput = { ...rest, ...(lang === undefined ? {} : { lang }), ...(extraHeaders === undefined ? {} : { extraHeaders }) };
          fc.pre(!/"(?:!|hasOwnProperty)":/.test(JSON.stringify(extraHeaders ?? {}))); // refused by design (amqplib's reserved keys)
          const out = encodeTaskMessage(input);
          assert.equal(out.standardHeaders, extraHeaders === undefined ? true : undefined);
          assert.equal(headersJson(out), encodeJson(out.headers));
        },
      ),
      2000,
    );
  });

  test('decodeTaskMessage(encodeTaskMessage(x)) gives x back', () => {
    run(
      fc.property(
        fc.record({
          ...HEADER_FIELDS,
          args: fc.array(json, { maxLength: 5 }),
          kwargs: roundTripKwargs,
          priority: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
          serializer: fc.constantFrom('json' as const, 'msgpack' as const),
          extraHeaders: fc.dictionary(fc.stringMatching(/^x_[a-z]{1,8}$/), json, { maxKeys: 3, noNullPrototype: true }),
        }),
        (raw) => {
          const { priority, ...rest } = raw;
          const input: TaskMessageInput = priority === undefined ? rest : { ...rest, priority };
          // Keys amqplib itself reserves ('!') or calls ('hasOwnProperty') are refused by design.
          fc.pre(!/"(?:!|hasOwnProperty)":/.test(JSON.stringify(input.extraHeaders)));
          const out = encodeTaskMessage(input);
          const back = decodeTaskMessage({
            body: out.body,
            contentType: out.properties.contentType,
            contentEncoding: out.properties.contentEncoding,
            headers: codec.decodeFields(encodeTable(out.wireHeaders)), // through amqplib's wire codec
            correlationId: out.properties.correlationId,
            replyTo: out.properties.replyTo,
          });
          assert.equal(back.id, input.id);
          assert.equal(back.task, input.task);
          assert.deepEqual(back.args, input.args);
          assert.deepEqual(back.kwargs, input.kwargs);
          assert.equal(back.retries, input.retries);
          assert.deepEqual(back.timeLimit, input.timeLimit);
          assert.equal(back.rootId, input.rootId || input.id);
          assert.equal(back.parentId, input.parentId);
          assert.equal(back.group, input.group);
          assert.equal(back.groupIndex, input.groupIndex);
          assert.equal(back.shadow, input.shadow);
          assert.equal(back.ignoreResult, input.ignoreResult);
          assert.equal(back.eta === null ? null : Date.parse(back.eta), input.eta === null ? null : (input.eta as Date).getTime());
          assert.equal(back.expires === null ? null : Date.parse(back.expires), input.expires === null ? null : (input.expires as Date).getTime());
          assert.equal(back.argsrepr, out.headers['argsrepr']);
          assert.equal(back.correlationId, input.id);
        },
      ),
      3000,
    );
  });

  test('typed JSON carries Date and bytes to a 5.3+ peer; plain JSON refuses bytes', () => {
    run(
      fc.property(fc.array(fc.oneof(json, typedOnly), { maxLength: 5 }), (args) => {
        const decoded = decodeJson(encodeJson(args, { typed: true })) as unknown[];
        args.forEach((value, i) => {
          if (value instanceof Date) assert.equal(Date.parse(decoded[i] as string), value.getTime());
          else assert.deepEqual(decoded[i], value);
        });
        if (args.some((v) => v instanceof Uint8Array)) assert.throws(() => encodeJson(args), TypeError);
      }),
      1000,
    );
  });

  test('msgpack round trip', () => {
    run(
      fc.property(fc.oneof(json, fc.array(fc.oneof(json, fc.uint8Array({ maxLength: 300 })))), (value) => {
        assert.deepEqual(decodeMsgpack(encodeMsgpack(value)), value);
      }),
      1000,
    );
  });

  // Keys other than "__proto__": amqplib's decoder assigns fields[key] = value, so a
  // "__proto__" header replaces the decoded table's prototype (decodeTaskMessage reads own
  // keys only, see the hostile-input property below).
  test('amqplib reads back exactly the header values we pinned', () => {
    const headerValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
        fc.string({ maxLength: 20 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.stringMatching(/^[a-z_]{1,10}$/).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).value;
    run(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z_]{1,12}$/).filter((k) => k !== '__proto__'), headerValue, { maxKeys: 8, noNullPrototype: true }), (headers) => {
        assert.deepEqual(codec.decodeFields(encodeTable(toWireHeaders(headers))), headers);
      }),
      1000,
    );
  });
});

function encodeTable(table: Record<string, unknown>): Buffer {
  const buffer = Buffer.alloc(1024 * 1024);
  const size = codec.encodeTable(buffer, table, 0);
  return buffer.subarray(4, size);
}

describe('hostile input: a value or a ProtocolError, nothing else', () => {
  const headerNames = ['lang', 'task', 'id', 'shadow', 'eta', 'expires', 'group', 'group_index', 'retries', 'timelimit', 'root_id', 'parent_id', 'argsrepr', 'kwargsrepr', 'origin', 'ignore_result', '__proto__', 'constructor'];
  const headerAnything = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.uuid(),
    fc.constant('proj.tasks.add'),
    fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
    fc.constantFrom(Buffer.from('proj.tasks.add'), Buffer.from([0xff, 0xfe]), { '!': 'timestamp', value: 5 }, [null, null], [300, 200], '2026-11-28T18:20:18.920616+00:00', 'not a date'),
  );
  const headers = fc.oneof(
    // What amqplib's decoder makes of a "__proto__" header: a table with a replaced prototype.
    fc.record({ task: fc.constant('proj.tasks.add'), id: fc.uuid() }).map((h) => Object.setPrototypeOf(h, { task: 'inherited', polluted: 1 }) as unknown),
    fc.constant(null),
    fc.constant(undefined),
    fc.dictionary(fc.constantFrom(...headerNames), headerAnything, { maxKeys: 10 }),
    fc.record({ task: fc.constant('proj.tasks.add'), id: fc.uuid() }),
  );
  const envelope = fc.record({ __type__: fc.oneof(fc.constantFrom('datetime', 'date', 'time', 'decimal', 'uuid', 'bytes', 'base64'), text, fc.anything()), __value__: fc.anything({ maxDepth: 2 }) });
  const jsonish = fc.oneof(json, envelope, fc.tuple(fc.anything({ maxDepth: 2 }), fc.anything({ maxDepth: 2 }), fc.anything({ maxDepth: 2 })), fc.record({ args: fc.anything(), kwargs: fc.anything(), task: fc.anything(), id: fc.anything() }));
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    jsonish.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.tuple(fc.array(fc.oneof(json, envelope)), fc.oneof(kwargs, json), fc.anything()).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
    fc.anything().map((v) => {
      try {
        return encodeMsgpack(v);
      } catch {
        // values msgpack cannot hold (Dates, class instances): send random bytes instead
        return Buffer.from([0xc1]);
      }
    }),
    fc.string({ unit: 'binary' }).map((s) => Buffer.from(s)),
  );
  const contentType = fc.option(fc.constantFrom('application/json', 'application/x-msgpack', 'application/x-python-serialize', 'application/x-yaml', 'text/plain', 'APPLICATION/JSON; charset=utf-8', ''), { nil: undefined });
  const contentEncoding = fc.option(fc.constantFrom('utf-8', 'binary', 'latin-1', 'UTF8'), { nil: undefined });

  test('decodeTaskMessage', () => {
    run(
      fc.property(body, contentType, contentEncoding, headers, fc.integer({ min: 0, max: 100 }), (b, ct, ce, h, limit) => {
        try {
          const request = decodeTaskMessage({ body: b, contentType: ct, contentEncoding: ce, headers: h as Record<string, unknown> | null }, { maxBodyBytes: limit === 0 ? 8 : 1_000_000 });
          assert.equal(typeof request.id, 'string');
          assert.equal(typeof request.task, 'string');
          assert.ok(Array.isArray(request.args));
          assert.ok(isPlainObject(request.kwargs));
          assert.ok(Number.isSafeInteger(request.retries));
        } catch (error) {
          expectProtocolError(error);
        }
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      }),
      4000,
    );
  });

  test('decodeResult', () => {
    const resultBody = fc.oneof(
      body,
      fc.record({ task_id: fc.oneof(fc.uuid(), fc.anything()), status: fc.oneof(fc.constantFrom('SUCCESS', 'FAILURE', 'STARTED', 'success'), fc.anything()), result: fc.anything(), traceback: fc.anything(), children: fc.anything() }, { requiredKeys: [] }).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
    );
    run(
      fc.property(resultBody, contentType, (b, ct) => {
        try {
          const meta = decodeResult(b, ct);
          assert.equal(typeof meta.task_id, 'string');
          // Whatever decodes also encodes again (typed: bytes from envelopes need it).
          encodeResult(meta, { typed: true });
        } catch (error) {
          expectProtocolError(error);
        }
      }),
      1500,
    );
  });

  test('decodeJson and decodeMsgpack', () => {
    run(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          jsonish.map((v) => JSON.stringify(v) ?? ''),
          // Deep nesting on every parse path (plain, escaped, Python's NaN).
          fc.tuple(fc.nat(3000), fc.constantFrom('1', '"\\u0041"', 'NaN', '{"__type__": "decimal", "__value__": "1"}')).map(([n, inner]) => '['.repeat(n) + inner + ']'.repeat(n)),
        ),
        fc.uint8Array({ maxLength: 64 }),
        (s, bytes) => {
          try {
            decodeJson(s);
          } catch (error) {
            expectProtocolError(error);
          }
          try {
            decodeMsgpack(bytes);
          } catch (error) {
            expectProtocolError(error);
          }
        },
      ),
      1500,
    );
  });

  test('reprs never throw and stay near the 1024 limit', () => {
    run(
      fc.property(fc.anything({ maxDepth: 4, withTypedArray: true, withBigInt: true }), (value) => {
        assert.equal(typeof pyRepr(value), 'string');
        assert.ok(safeRepr(value).length < 1300);
      }),
      500,
    );
  });

  test('bindArguments binds or raises ArgumentError', () => {
    const wireType: fc.Arbitrary<WireType> = fc.letrec((tie) => ({
      type: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom<WireType>({ type: 'unknown' }, { type: 'null' }, { type: 'boolean' }, { type: 'number' }, { type: 'number', integer: true }, { type: 'string' }, { type: 'bytes' }),
        fc.record({ type: fc.constant('array' as const), items: tie('type') as fc.Arbitrary<WireType> }),
        fc.record({ type: fc.constant('union' as const), members: fc.array(tie('type') as fc.Arbitrary<WireType>, { maxLength: 3 }) }),
        fc.record({ type: fc.constant('record' as const), values: tie('type') as fc.Arbitrary<WireType> }),
      ),
    })).type as fc.Arbitrary<WireType>;
    const param: fc.Arbitrary<ParamSpec> = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'args', 'kwargs', '__proto__'),
      kind: fc.constantFrom('positional_only', 'positional_or_keyword', 'keyword_only', 'var_positional', 'var_keyword'),
      required: fc.boolean(),
      type: wireType,
    });
    run(
      fc.property(fc.array(param, { maxLength: 5 }), fc.boolean(), fc.array(json, { maxLength: 5 }), fc.dictionary(fc.constantFrom('a', 'b', 'c', 'z', '__proto__', 'constructor'), json), (params, bind, args, kw) => {
        const spec: TaskSpec = { name: 'proj.tasks.f', bind, options: {}, params };
        try {
          const bound = bindArguments(spec, args, kw);
          assert.equal(bound.length, params.length);
        } catch (error) {
          if (!(error instanceof ArgumentError)) throw error;
        }
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      }),
      1000,
    );
  });

  test('successMeta of any JSON value encodes and decodes back', () => {
    run(
      fc.property(fc.uuid(), json, (id, value) => {
        assert.deepEqual(decodeResult(encodeResult(successMeta(id, value)).body, 'application/json').result, value);
      }),
      1000,
    );
  });
});
