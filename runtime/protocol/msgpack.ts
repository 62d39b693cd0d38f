/**
 * MessagePack as kombu uses it (`msgpack.packb(use_bin_type=True)` /
 * `unpackb(raw=False)`, msgpack-python 1.0): str ↔ string, bin ↔ Uint8Array, the
 * smallest integer format, floats as float64. Decoding follows msgpack-python's defaults:
 * map keys must be strings (`strict_map_key=True`), ext types are not accepted, and every
 * malformed input is a ProtocolError BAD_BODY. Map keys such as `__proto__` become own
 * data properties.
 */
import { ProtocolError } from './errors.js';
import { setOwn } from './own-property.js';

export const MSGPACK_CONTENT_TYPE = 'application/x-msgpack';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_DEPTH = 512;

export function decodeMsgpack(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const bad = (why: string): never => {
    throw new ProtocolError('BAD_BODY', `body is not valid msgpack: ${why}`);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) bad(`truncated at byte ${pos}`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++] as number;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos);
    pos += 4;
    return v;
  };
  const str = (n: number): string => {
    need(n);
    try {
      return STRICT_UTF8.decode(bytes.subarray(pos, (pos += n)));
    } catch (error) {
      throw new ProtocolError('BAD_BODY', 'body is not valid msgpack: a str is not UTF-8', { cause: error });
    }
  };
  const bin = (n: number): Uint8Array => {
    need(n);
    // A plain Uint8Array copy (slice of a Buffer would be a Buffer sharing nothing useful).
    const out = new Uint8Array(n);
    out.set(bytes.subarray(pos, (pos += n)));
    return out;
  };
  const array = (n: number, depth: number): unknown[] => {
    // Every element takes at least a byte: a huge count in a small body is malformed.
    if (n > bytes.length - pos) bad(`array of ${n} items in ${bytes.length - pos} bytes`);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(value(depth + 1));
    return out;
  };
  const map = (n: number, depth: number): Record<string, unknown> => {
    if (n * 2 > bytes.length - pos) bad(`map of ${n} entries in ${bytes.length - pos} bytes`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = value(depth + 1);
      if (typeof key !== 'string') bad('map keys must be strings (msgpack strict_map_key)');
      setOwn(out, key as string, value(depth + 1));
    }
    return out;
  };
  const int64 = (signed: boolean): number => {
    need(8);
    const big = signed ? view.getBigInt64(pos) : view.getBigUint64(pos);
    pos += 8;
    return Number(big);
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) bad('nested too deeply');
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0x80 && b <= 0x8f) return map(b & 0x0f, depth);
    if (b >= 0x90 && b <= 0x9f) return array(b & 0x0f, depth);
    if (b >= 0xa0 && b <= 0xbf) return str(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(u8());
      case 0xc5:
        return bin(u16());
      case 0xc6:
        return bin(u32());
      case 0xca: {
        need(4);
        const v = view.getFloat32(pos);
        pos += 4;
        return v;
      }
      case 0xcb: {
        need(8);
        const v = view.getFloat64(pos);
        pos += 8;
        return v;
      }
      case 0xcc:
        return u8();
      case 0xcd:
        return u16();
      case 0xce:
        return u32();
      case 0xcf:
        return int64(false);
      case 0xd0: {
        need(1);
        return view.getInt8(pos++);
      }
      case 0xd1: {
        need(2);
        const v = view.getInt16(pos);
        pos += 2;
        return v;
      }
      case 0xd2: {
        need(4);
        const v = view.getInt32(pos);
        pos += 4;
        return v;
      }
      case 0xd3:
        return int64(true);
      case 0xd9:
        return str(u8());
      case 0xda:
        return str(u16());
      case 0xdb:
        return str(u32());
      case 0xdc:
        return array(u16(), depth);
      case 0xdd:
        return array(u32(), depth);
      case 0xde:
        return map(u16(), depth);
      case 0xdf:
        return map(u32(), depth);
      default:
        // 0xc1 (never used) and the ext family (0xc7-0xc9, 0xd4-0xd8).
        return bad(`unsupported type byte 0x${b.toString(16)} at ${pos - 1}`);
    }
  };
  const result = value(0);
  if (pos !== bytes.length) bad(`extra data after byte ${pos}`);
  return result;
}

/** `msgpack.packb(value, use_bin_type=True)` of a JSON-ish value. */
export function encodeMsgpack(value: unknown): Buffer {
  const chunks: Buffer[] = [];
  const push = (b: Buffer): void => {
    chunks.push(b);
  };
  const header = (fix: number, fixMax: number, c8: number | null, c16: number, c32: number, n: number): void => {
    if (n <= fixMax) push(Buffer.from([fix | n]));
    else if (c8 !== null && n <= 0xff) push(Buffer.from([c8, n]));
    else if (n <= 0xffff) {
      const b = Buffer.alloc(3);
      b[0] = c16;
      b.writeUInt16BE(n, 1);
      push(b);
    } else {
      const b = Buffer.alloc(5);
      b[0] = c32;
      b.writeUInt32BE(n, 1);
      push(b);
    }
  };
  const int = (n: bigint): void => {
    if (n >= 0n) {
      if (n <= 0x7fn) push(Buffer.from([Number(n)]));
      else if (n <= 0xffn) push(Buffer.from([0xcc, Number(n)]));
      else if (n <= 0xffffn) {
        const b = Buffer.alloc(3);
        b[0] = 0xcd;
        b.writeUInt16BE(Number(n), 1);
        push(b);
      } else if (n <= 0xffff_ffffn) {
        const b = Buffer.alloc(5);
        b[0] = 0xce;
        b.writeUInt32BE(Number(n), 1);
        push(b);
      } else if (n <= 0xffff_ffff_ffff_ffffn) {
        const b = Buffer.alloc(9);
        b[0] = 0xcf;
        b.writeBigUInt64BE(n, 1);
        push(b);
      } else throw new TypeError('integer too large for msgpack');
    } else if (n >= -32n) push(Buffer.from([Number(n) & 0xff]));
    else if (n >= -0x80n) push(Buffer.from([0xd0, Number(n) & 0xff]));
    else if (n >= -0x8000n) {
      const b = Buffer.alloc(3);
      b[0] = 0xd1;
      b.writeInt16BE(Number(n), 1);
      push(b);
    } else if (n >= -0x8000_0000n) {
      const b = Buffer.alloc(5);
      b[0] = 0xd2;
      b.writeInt32BE(Number(n), 1);
      push(b);
    } else if (n >= -(2n ** 63n)) {
      const b = Buffer.alloc(9);
      b[0] = 0xd3;
      b.writeBigInt64BE(n, 1);
      push(b);
    } else throw new TypeError('integer too small for msgpack');
  };
  const write = (v: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) throw new TypeError('value nested too deeply for msgpack');
    if (v === null || v === undefined) return push(Buffer.from([0xc0]));
    if (v === false) return push(Buffer.from([0xc2]));
    if (v === true) return push(Buffer.from([0xc3]));
    if (typeof v === 'number') {
      // Integral values are ints, as in the JSON encoder (JS cannot tell 3 from 3.0).
      if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 64 && !Object.is(v, -0)) return int(BigInt(v));
      const b = Buffer.alloc(9);
      b[0] = 0xcb;
      b.writeDoubleBE(v, 1);
      return push(b);
    }
    if (typeof v === 'bigint') return int(v);
    if (typeof v === 'string') {
      const bytes = Buffer.from(v, 'utf8');
      header(0xa0, 31, 0xd9, 0xda, 0xdb, bytes.length);
      return push(bytes);
    }
    if (v instanceof Uint8Array) {
      header(0, -1, 0xc4, 0xc5, 0xc6, v.length);
      return push(Buffer.from(v));
    }
    if (Array.isArray(v)) {
      header(0x90, 15, null, 0xdc, 0xdd, v.length);
      for (const item of v) write(item, depth + 1);
      return;
    }
    if (typeof v === 'object' && !(v instanceof Date)) {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto === Object.prototype || proto === null) {
        const record = v as Record<string, unknown>;
        const keys = Object.keys(record).filter((k) => record[k] !== undefined);
        header(0x80, 15, null, 0xde, 0xdf, keys.length);
        for (const key of keys) {
          write(key, depth + 1);
          write(record[key], depth + 1);
        }
        return;
      }
    }
    // Python's msgpack cannot pack datetime either (captures: EncodeError).
    throw new TypeError(`cannot send ${v instanceof Date ? 'a Date' : typeof v} as msgpack: use strings, numbers, bytes, lists and dicts`);
  };
  write(value, 0);
  return Buffer.concat(chunks);
}
