/**
 * Teaches amqplib's field-table decoder the `L` tag (signed 64-bit integer), which
 * py-amqp writes for every header integer outside int32 (`retries=2**40`, a large
 * custom header). amqplib 0.10.8 has no case for it: it throws `Unexpected type tag "L"`
 * while parsing the content header, treats that as a frame error and closes the whole
 * connection, so one such message from a Python client would stop a TS worker (verified
 * against a Python 5.2.6 client before this fix).
 *
 * amqplib's `defs.js` copies `codec.decodeFields` into a local variable when it loads,
 * so the replacement must be installed before amqplib is first required. transport.ts
 * imports this module ahead of amqplib; `installedBeforeAmqplib` says whether that worked
 * (false when the application had already loaded amqplib itself).
 *
 * The decoder below is amqplib's own (lib/codec.js, 0.10.8), case for case, plus `L`.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type FieldTable = Record<string, unknown>;

/** amqplib's decodeFields with py-amqp's `L`; every other tag decodes exactly as amqplib does. */
export function decodeFields(slice: Buffer): FieldTable {
  const fields: FieldTable = {};
  let offset = 0;
  const size = slice.length;
  let len: number;
  let val: unknown;

  const decodeFieldValue = (): void => {
    const tag = String.fromCharCode(slice[offset]!);
    offset++;
    switch (tag) {
      case 'b':
        val = slice.readInt8(offset);
        offset++;
        break;
      case 'B':
        val = slice.readUInt8(offset);
        offset++;
        break;
      case 'S':
        len = slice.readUInt32BE(offset);
        offset += 4;
        val = slice.toString('utf8', offset, offset + len);
        offset += len;
        break;
      case 'I':
        val = slice.readInt32BE(offset);
        offset += 4;
        break;
      case 'i':
        val = slice.readUInt32BE(offset);
        offset += 4;
        break;
      case 'D': {
        const places = slice[offset]!;
        offset++;
        const digits = slice.readUInt32BE(offset);
        offset += 4;
        val = { '!': 'decimal', value: { places, digits } };
        break;
      }
      case 'T':
        val = { '!': 'timestamp', value: int64(slice.readBigUInt64BE(offset)) };
        offset += 8;
        break;
      case 'F':
        len = slice.readUInt32BE(offset);
        offset += 4;
        val = decodeFields(slice.subarray(offset, offset + len));
        offset += len;
        break;
      case 'A': {
        len = slice.readUInt32BE(offset);
        offset += 4;
        const until = offset + len;
        const values: unknown[] = [];
        while (offset < until) {
          decodeFieldValue();
          values.push(val);
        }
        val = values;
        break;
      }
      case 'd':
        val = slice.readDoubleBE(offset);
        offset += 8;
        break;
      case 'f':
        val = slice.readFloatBE(offset);
        offset += 4;
        break;
      case 'l':
      case 'L': // py-amqp: struct.pack('>q'), signed like amqplib's own 'l'
        val = int64(slice.readBigInt64BE(offset));
        offset += 8;
        break;
      case 's':
        val = slice.readInt16BE(offset);
        offset += 2;
        break;
      case 'u':
        val = slice.readUInt16BE(offset);
        offset += 2;
        break;
      case 't':
        val = slice[offset] !== 0;
        offset++;
        break;
      case 'V':
        val = null;
        break;
      case 'x':
        len = slice.readUInt32BE(offset);
        offset += 4;
        val = slice.subarray(offset, offset + len);
        offset += len;
        break;
      default:
        throw new TypeError(`Unexpected type tag "${tag}"`);
    }
  };

  while (offset < size) {
    len = slice.readUInt8(offset);
    offset++;
    const key = slice.toString('utf8', offset, offset + len);
    offset += len;
    decodeFieldValue();
    // Own data property even for "__proto__", which plain assignment would turn into a prototype swap.
    Object.defineProperty(fields, key, { value: val, writable: true, enumerable: true, configurable: true });
  }
  return fields;
}

/** A number when a double holds it exactly; otherwise the BigInt, so nothing is silently rounded. */
function int64(value: bigint): number | bigint {
  const n = Number(value);
  return BigInt(n) === value ? n : value;
}

/** @internal amqplib's own decoder, kept for the equivalence test. */
export let amqplibDecodeFields: ((slice: Buffer) => FieldTable) | undefined;

function install(): boolean {
  let defsPath: string;
  try {
    defsPath = require.resolve('amqplib/lib/defs.js');
  } catch {
    return false; // a different amqplib layout: leave it as it is
  }
  const before = require.cache[defsPath] === undefined;
  const codec = require('amqplib/lib/codec.js') as { decodeFields?: unknown };
  if (typeof codec.decodeFields === 'function' && codec.decodeFields !== decodeFields) {
    amqplibDecodeFields = codec.decodeFields as (slice: Buffer) => FieldTable;
    codec.decodeFields = decodeFields;
  }
  return before;
}

/** False when amqplib was loaded before this module, so its decoder still lacks `L`. */
export const installedBeforeAmqplib: boolean = install();
