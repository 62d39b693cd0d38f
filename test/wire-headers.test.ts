// Header tables as Python writes them, checked byte for byte with amqplib's own codec
// against the content-header frames captured from Python Celery 5.2.6 (py-amqp 5.1.1).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { ProtocolError } from '../runtime/protocol/errors.js';
import { toWireHeaders } from '../runtime/protocol/wire-headers.js';

const require = createRequire(import.meta.url);
const codec = require('amqplib/lib/codec') as {
  encodeTable(buffer: Buffer, value: unknown, offset: number): number;
  decodeFields(slice: Buffer): Record<string, unknown>;
};

interface TypedValue {
  t: string;
  v: unknown;
}
interface WireCase {
  label: string;
  header_frame_payload_hex: string;
  parsed: { typed_headers: Record<string, TypedValue> };
}
const wireCases = (
  JSON.parse(readFileSync(new URL('../fixtures/messages/celery-5.2/wire-header-types.json', import.meta.url), 'utf8')) as { cases: WireCase[] }
).cases;

/** amqplib's encoding of a table, without its 4-byte length prefix. */
function encode(table: Record<string, unknown>): Buffer {
  const buffer = Buffer.alloc(64 * 1024);
  const size = codec.encodeTable(buffer, table, 0);
  return buffer.subarray(4, size);
}

/** The header table bytes of a captured content-header payload (after class, weight, size, flags, two shortstrs). */
function pythonTable(hex: string): Buffer {
  const frame = Buffer.from(hex, 'hex');
  let offset = 2 + 2 + 8 + 2;
  offset += 1 + (frame[offset] as number); // content_type
  offset += 1 + (frame[offset] as number); // content_encoding
  const length = frame.readUInt32BE(offset);
  return frame.subarray(offset + 4, offset + 4 + length);
}

function plain(typed: TypedValue): unknown {
  return typed.t === 'A' ? (typed.v as TypedValue[]).map(plain) : typed.v;
}

function plainHeaders(c: WireCase): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c.parsed.typed_headers).map(([k, v]) => [k, plain(v)]));
}

/** Each value's tag, read back by amqplib-compatible walking of our own bytes. */
function tagOf(table: Record<string, unknown>, key: string): string {
  const bytes = encode({ [key]: table[key] });
  return String.fromCharCode(bytes[1 + Buffer.byteLength(key)] as number);
}

describe('toWireHeaders', () => {
  for (const c of wireCases) {
    test(`amqplib writes exactly Python's header table bytes: ${c.label}`, () => {
      const expected = pythonTable(c.header_frame_payload_hex);
      const ours = encode(toWireHeaders(plainHeaders(c)));
      if (c.label === 'v2-task-big-retries-header') {
        // amqplib has no writer for `L` (signed int64); it writes `l`, which py-amqp reads as
        // unsigned 64-bit: the same value for a non-negative int. Only that tag byte differs.
        const at = expected.indexOf(Buffer.concat([Buffer.from('\x07retries', 'latin1'), Buffer.from('L')]));
        assert.ok(at >= 0, 'the captured frame carries retries as L');
        const patched = Buffer.from(expected);
        patched[at + 8] = 'l'.charCodeAt(0);
        assert.deepEqual(ours, patched);
      } else {
        assert.deepEqual(ours, expected);
      }
    });
  }

  test('without it amqplib writes the int16/int8 tags that break py-amqp (captures README §9)', () => {
    const headers = { retries: 200, timelimit: [300, 200], group_index: 0 };
    assert.equal(tagOf(headers, 'retries'), 's');
    assert.equal(tagOf(headers, 'group_index'), 'b');
    const wire = toWireHeaders(headers);
    assert.equal(tagOf(wire, 'retries'), 'I');
    assert.equal(tagOf(wire, 'group_index'), 'I');
    const timelimit = encode({ t: wire['timelimit'] });
    // 't' key, 'A', u32 length, then two tagged values: both I.
    assert.equal(String.fromCharCode(timelimit[7] as number), 'I');
    assert.equal(String.fromCharCode(timelimit[12] as number), 'I');
  });

  test('every integer at every depth is pinned, by range', () => {
    const wire = toWireHeaders({
      small: 1,
      negative: -1,
      int32max: 2147483647,
      int32min: -2147483648,
      above: 2147483648,
      big: 2 ** 40,
      hugeNegative: -(2 ** 40),
      float: 1.5,
      bigint: 5n,
      nested: { clock: 300, list: [1, [2, { deep: 70000 }]] },
      text: 'x',
      flag: true,
      nothing: null,
    });
    assert.deepEqual(wire['small'], { '!': 'int32', value: 1 });
    assert.deepEqual(wire['negative'], { '!': 'int32', value: -1 });
    assert.deepEqual(wire['int32max'], { '!': 'int32', value: 2147483647 });
    assert.deepEqual(wire['int32min'], { '!': 'int32', value: -2147483648 });
    assert.deepEqual(wire['above'], { '!': 'int64', value: 2147483648 });
    assert.deepEqual(wire['big'], { '!': 'int64', value: 2 ** 40 });
    // `l` would read back as 2^64 - 2^40 in py-amqp; a double keeps the value.
    assert.deepEqual(wire['hugeNegative'], { '!': 'double', value: -(2 ** 40) });
    assert.deepEqual(wire['float'], { '!': 'double', value: 1.5 });
    assert.deepEqual(wire['bigint'], { '!': 'int32', value: 5 });
    assert.deepEqual({ ...(wire['nested'] as object) }, {
      clock: { '!': 'int32', value: 300 },
      list: [{ '!': 'int32', value: 1 }, [{ '!': 'int32', value: 2 }, { deep: { '!': 'int32', value: 70000 } }]],
    });
    assert.equal(wire['text'], 'x');
    assert.equal(wire['flag'], true);
    assert.equal(wire['nothing'], null);
    // And amqplib accepts the whole table.
    const decoded = codec.decodeFields(encode(wire));
    assert.equal(decoded['int32min'], -2147483648);
    assert.equal(decoded['big'], 2 ** 40);
    assert.equal(decoded['hugeNegative'], -(2 ** 40));
  });

  test('is idempotent, so applying it twice cannot double-wrap', () => {
    const once = toWireHeaders({ retries: 200, timelimit: [300, null] });
    assert.deepEqual(toWireHeaders(once), once);
  });

  test('refuses values Python would misread', () => {
    assert.throws(() => toWireHeaders({ task: Buffer.from('proj.tasks.add') }), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_HEADER');
    assert.throws(() => toWireHeaders({ x: { '!': 'short', value: 1 } }), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_HEADER');
    assert.throws(() => toWireHeaders({ s: { hasOwnProperty: 1 } }), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_HEADER');
    assert.throws(() => toWireHeaders({ f: () => 1 }), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_HEADER');
  });

  test('a __proto__ header key stays a plain key', () => {
    const headers = JSON.parse('{"__proto__": {"polluted": 1}, "retries": 0}') as Record<string, unknown>;
    const wire = toWireHeaders(headers);
    assert.ok(Object.hasOwn(wire, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.ok(encode(wire).includes(Buffer.from('__proto__')));
  });

  test("the captured amqplib-tagged tables: Python failed on exactly the int16 ones, ours have none", () => {
    const capture = JSON.parse(readFileSync(new URL('../fixtures/messages/celery-5.2/interop-amqplib-style-header-tags.json', import.meta.url), 'utf8')) as {
      results: { variant: string; headers_as_intended: Record<string, unknown>; content_header_property_bytes_hex: string; replies_on_reply_to_queue: unknown[] }[];
    };
    assert.equal(capture.results.length, 6);
    for (const r of capture.results) {
      const props = Buffer.from(r.content_header_property_bytes_hex, 'hex');
      let offset = 2; // property flags
      offset += 1 + (props[offset] as number);
      offset += 1 + (props[offset] as number);
      const captured = props.subarray(offset + 4, offset + 4 + props.readUInt32BE(offset));
      // The capture is what plain amqplib writes for these headers…
      assert.deepEqual(encode(r.headers_as_intended), captured, r.variant);
      const retriesTag = tagOf(r.headers_as_intended, 'retries');
      const timelimit = r.headers_as_intended['timelimit'] as unknown[];
      const int16 = retriesTag === 's' || (typeof timelimit[0] === 'number' && Math.abs(timelimit[0]) >= 128 && Math.abs(timelimit[0]) < 32768);
      // …Python answered nothing for the int16 variants (reconnect loop) and ran the others…
      assert.equal(r.replies_on_reply_to_queue.length === 0, int16, r.variant);
      // …and our table for the same headers never uses b or s, and reads back the same values.
      const ours = toWireHeaders(r.headers_as_intended);
      assert.ok(['I', 'l'].includes(tagOf(ours, 'retries')), r.variant);
      assert.deepEqual(codec.decodeFields(encode(ours)), r.headers_as_intended);
    }
  });

  test('known limit: amqplib cannot decode the `L` tag Python uses for ints outside int32', () => {
    const big = wireCases.find((c) => c.label === 'v2-task-big-retries-header');
    assert.ok(big);
    // amqplib throws while parsing such a content header; the transport sees a frame
    // error and a closed connection (wire-headers.ts documents it).
    assert.throws(() => codec.decodeFields(pythonTable(big.header_frame_payload_hex)), /Unexpected type tag "L"/);
    const small = wireCases.find((c) => c.label === 'v2-task-add-delay');
    assert.ok(small);
    assert.equal(codec.decodeFields(pythonTable(small.header_frame_payload_hex))['retries'], 0);
  });
});
