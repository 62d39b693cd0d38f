/**
 * The header decoder installed into amqplib: identical to amqplib's own on everything
 * amqplib can encode (fast-check, fixed seed), plus py-amqp's signed int64 tag `L`.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { amqplibDecodeFields, decodeFields, installedBeforeAmqplib } from '../runtime/amqp/amqplib-codec.js';

const require = createRequire(import.meta.url);
const codec = require('amqplib/lib/codec.js') as { encodeTable(buffer: Buffer, value: unknown, offset: number): number; decodeFields: unknown };

function encode(table: Record<string, unknown>): Buffer {
  const buffer = Buffer.alloc(1 << 20);
  const size = codec.encodeTable(buffer, table, 0);
  return buffer.subarray(4, size); // without the table's length prefix, as amqplib hands it to decodeFields
}

/** A field-table entry the way py-amqp writes `key: int` outside int32: tag `L`, signed big-endian int64. */
function pythonInt64(key: string, value: bigint): Buffer {
  const entry = Buffer.alloc(1 + key.length + 1 + 8);
  entry.writeUInt8(key.length, 0);
  entry.write(key, 1, 'latin1');
  entry.write('L', 1 + key.length, 'latin1');
  entry.writeBigInt64BE(value, 2 + key.length);
  return entry;
}

describe('amqplib header decoder with py-amqp int64', () => {
  test('it is installed into amqplib before amqplib loads', () => {
    assert.equal(installedBeforeAmqplib, true);
    assert.equal(codec.decodeFields, decodeFields);
    assert.equal(typeof amqplibDecodeFields, 'function');
  });

  test('`L` decodes as signed int64: a number when a double holds it exactly, else a BigInt', () => {
    const slice = Buffer.concat([
      pythonInt64('retries', 2n ** 40n),
      pythonInt64('negative', -(2n ** 33n)),
      pythonInt64('huge', 2n ** 62n + 1n),
    ]);
    assert.deepEqual(decodeFields(slice), { retries: 2 ** 40, negative: -(2 ** 33), huge: 2n ** 62n + 1n });
    assert.throws(() => amqplibDecodeFields!(slice), /Unexpected type tag "L"/);
  });

  test('same result as amqplib on every table amqplib encodes (fast-check, seed 20261128)', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.integer({ min: -128, max: 32767 }),
      fc.maxSafeInteger(),
      // Integral doubles beyond int64 are mis-encoded by amqplib itself (its 'long' overflows): not this decoder's concern.
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
    );
    const value = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), tie('table')),
      table: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__' && k !== '!' && Buffer.byteLength(k) < 256), tie('value'), { maxKeys: 5, noNullPrototype: true }),
    }));
    fc.assert(
      fc.property(value.table as fc.Arbitrary<Record<string, unknown>>, (table) => {
        const slice = encode(table);
        assert.deepEqual(decodeFields(slice), amqplibDecodeFields!(slice));
      }),
      { seed: 20261128, numRuns: 2000 },
    );
  });

  test('a "__proto__" header stays an own key instead of replacing the prototype', () => {
    const slice = encode(JSON.parse('{"__proto__": {"polluted": true}, "task": "t"}') as Record<string, unknown>);
    const fields = decodeFields(slice);
    assert.equal(Object.getPrototypeOf(fields), Object.prototype);
    assert.deepEqual(Object.keys(fields), ['__proto__', 'task']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
