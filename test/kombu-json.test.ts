// kombu's JSON both ways: bytes identical to Python's json.dumps (vectors from the real
// Python 3.11 + kombu 5.2.4), kombu 5.3+ typed envelopes decoded as documented, and no
// prototype pollution whatever the text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../runtime/protocol/errors.js';
import { decodeJson, encodeJson } from '../runtime/protocol/kombu-json.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { askPython } from './support/python-oracle.js';
import { PYTHON, peerMissing } from './support/python.js';

interface Vector {
  value: unknown;
  repr: string;
  json: string | null;
}
const vectors = (
  JSON.parse(readFileSync(new URL('../fixtures/messages/python/python-vectors.json', import.meta.url), 'utf8')) as { cases: Vector[] }
).cases;

/** The JS value of a vector as JSON carries it (tuples are lists). */
function jsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (Array.isArray(record['$tuple'])) return record['$tuple'].map(jsonValue);
    if (typeof record['$float'] === 'string') return { nan: NaN, inf: Infinity, '-inf': -Infinity }[record['$float']];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) Object.defineProperty(out, k, { value: jsonValue(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

const badBody = (e: unknown): boolean => e instanceof ProtocolError && e.code === 'BAD_BODY';
const notJson = (e: unknown): boolean => e instanceof ProtocolError && e.code === 'NOT_JSON';

describe("encodeJson writes Python's json.dumps bytes", () => {
  for (const v of vectors.filter((x) => x.json !== null)) {
    const name = v.repr.length > 60 ? `${v.repr.slice(0, 60)}…` : v.repr;
    test(name, () => {
      const value = jsonValue(v.value);
      assert.equal(encodeJson(value), v.json);
      // and reads back to the same value
      assert.deepEqual(decodeJson(v.json as string), value);
    });
  }

  test('a Date is the string kombu 5.2 writes for an aware UTC datetime', () => {
    assert.equal(encodeJson([new Date('2024-05-06T07:08:09.123Z')]), '["2024-05-06T07:08:09.123000Z"]');
    assert.equal(encodeJson(new Date('2024-05-06T07:08:09Z')), '"2024-05-06T07:08:09Z"');
  });

  test('bytes are refused in plain mode with a clear reason', () => {
    assert.throws(() => encodeJson([new Uint8Array([1])]), /kombu 5\.2's JSON has no bytes type/);
  });

  test('typed mode writes kombu 5.3+ envelopes', () => {
    assert.equal(
      encodeJson([new Date('2024-05-06T07:08:09.123Z'), new Uint8Array([0, 1, 0x72, 0x61, 0x77]), new Uint8Array([0xff, 0xfe, 0x00, 0x62, 0x69, 0x6e])], { typed: true }),
      '[{"__type__": "datetime", "__value__": "2024-05-06T07:08:09.123000+00:00"}, {"__type__": "bytes", "__value__": "\\u0000\\u0001raw"}, {"__type__": "base64", "__value__": "//4AYmlu"}]',
    );
  });

  test('undefined, bigint, toJSON and refusals', () => {
    assert.equal(encodeJson({ a: undefined, b: 1 }), '{"b": 1}');
    assert.equal(encodeJson([undefined]), '[null]');
    assert.equal(encodeJson(2n ** 70n), '1180591620717411303424');
    assert.equal(encodeJson({ toJSON: () => 'x' }), '"x"');
    assert.throws(() => encodeJson(new Set([1])), /cannot send a Set/);
    assert.throws(() => encodeJson(() => 1), /function/);
    assert.throws(() => encodeJson({ __type__: 'nope', __value__: 1 }), /unknown marker/);
  });
});

describe("encodeJson agrees with the real kombu json.dumps on 3,000 random values", () => {
  const skip = peerMissing();
  test('byte for byte (fast-check sample, fixed seed; Python as the oracle)', { skip }, () => {
    const values = fc.sample(
      fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.array(fc.oneof(fc.double(), fc.integer(), fc.string({ unit: 'binary', maxLength: 40 })), { maxLength: 6 }),
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.double(), { maxKeys: 4, noNullPrototype: true }),
      ),
      { seed: 20261128, numRuns: 3000 },
    );
    const answers = askPython(values);
    values.forEach((value, i) => {
      assert.equal(encodeJson(value), answers[i]?.json, `value #${i}: ${JSON.stringify(value)}`);
    });
  });
});

describe('decodeJson accepts exactly what Python json.loads accepts, on 3,000 mutated texts', () => {
  const skip = peerMissing();
  test('same accept/reject decision, same value (fast-check sample, fixed seed; Python as the oracle)', { skip }, () => {
    const mutation = fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom('[', ']', '{', '}', '"', ',', ':', '0', '-', 'e', '.', ' ', 'N', 'a', 'I', '\\', 'u', '\t', '\u0001', 'é'));
    const texts = fc.sample(
      fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.array(mutation, { maxLength: 3 })).map(([value, edits]) => {
        let text = JSON.stringify(value).replace(/null/, 'NaN');
        for (const [at, kind, ch] of edits) {
          const i = text.length === 0 ? 0 : at % text.length;
          text = kind === 0 ? text.slice(0, i) + text.slice(i + 1) : kind === 1 ? text.slice(0, i) + ch + text.slice(i) : kind === 2 ? text.slice(0, i) + ch + text.slice(i + 1) : text;
        }
        return text;
      }),
      { seed: 20261128, numRuns: 3000 },
    );
    const oracle = fileURLToPath(new URL('../fixtures/messages/python/loads-oracle.py', import.meta.url));
    const run = spawnSync(PYTHON, [oracle], { input: texts.map((t) => JSON.stringify(t)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(run.status, 0, run.stderr);
    const answers = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; dumped?: string | null });
    let accepted = 0;
    texts.forEach((text, i) => {
      const answer = answers[i];
      assert.ok(answer);
      let ours: string | null = null;
      try {
        ours = encodeJson(decodeJson(text));
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
      assert.equal(ours !== null, answer.ok, `text #${i} ${JSON.stringify(text)}: Python ${answer.ok ? 'accepts' : 'rejects'} it`);
      if (answer.ok) {
        accepted++;
        // Same value as JS sees it (bytes are compared by the json.dumps oracle above; here
        // Python's 0.0 and 0 are the same JS number).
        assert.deepEqual(decodeJson(answer.dumped ?? ''), decodeJson(text), `text #${i} ${JSON.stringify(text)}`);
      }
    });
    assert.ok(accepted > 500 && accepted < 2900, `both outcomes exercised (${accepted} accepted)`);
  });
});

describe('decodeJson reads kombu 5.3+ typed envelopes', () => {
  const cases: [string, string, unknown][] = [
    ['datetime keeps its ISO text', '{"__type__": "datetime", "__value__": "2024-05-06T07:08:09.123456+00:00"}', '2024-05-06T07:08:09.123456+00:00'],
    ['date is ISO date text', '{"__type__": "date", "__value__": "2024-05-06"}', '2024-05-06'],
    ['time is ISO time text', '{"__type__": "time", "__value__": "07:08:09.000500"}', '07:08:09.000500'],
    ['decimal is its text', '{"__type__": "decimal", "__value__": "-0.5"}', '-0.5'],
    ['uuid {hex} is the dashed UUID', '{"__type__": "uuid", "__value__": {"hex": "12345678123456781234567812345678"}}', '12345678-1234-5678-1234-567812345678'],
    ['uuid hex with braces and upper case', '{"__type__": "uuid", "__value__": {"hex": "{ABCDEF00-1234-5678-1234-567812345678}"}}', 'abcdef00-1234-5678-1234-567812345678'],
    ['bytes is the UTF-8 of its text', '{"__type__": "bytes", "__value__": "\\u0000\\u0001raw"}', new Uint8Array([0, 1, 0x72, 0x61, 0x77])],
    ['base64', '{"__type__": "base64", "__value__": "//4AYmlu"}', new Uint8Array([0xff, 0xfe, 0x00, 0x62, 0x69, 0x6e])],
    ['keys spelled with escapes still make an envelope (Python unescapes first)', '{"\\u005f_type__": "decimal", "__value\\u005f_": "1"}', '1'],
    ['a third key makes it a plain dict', '{"__type__": "decimal", "__value__": "1", "x": 1}', { __type__: 'decimal', __value__: '1', x: 1 }],
    ['nested inside lists and dicts', '[{"a": [{"__type__": "decimal", "__value__": "2"}]}]', [{ a: ['2'] }]],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => {
      assert.deepEqual(decodeJson(text), expected);
    });
  }

  const refused: [string, string][] = [
    ['an unknown marker', '{"__type__": "set", "__value__": [1]}'],
    ['a non-string marker', '{"__type__": 1, "__value__": "x"}'],
    ['a uuid whose value is a string (kombu: UUID() argument after ** must be a mapping)', '{"__type__": "uuid", "__value__": "12345678-1234-5678-1234-567812345678"}'],
    ['a uuid with too few digits', '{"__type__": "uuid", "__value__": {"hex": "1234"}}'],
    ['a datetime that is not text', '{"__type__": "datetime", "__value__": 5}'],
    ['bytes with a lone surrogate (Python cannot encode it)', '{"__type__": "bytes", "__value__": "\\ud800"}'],
    ['base64 that is not base64', '{"__type__": "base64", "__value__": "**"}'],
  ];
  for (const [name, text] of refused) {
    test(`refuses ${name}: BAD_BODY`, () => {
      assert.throws(() => decodeJson(text), badBody);
    });
  }
});

describe('decodeJson parses what Python json.loads parses, and nothing else', () => {
  test("Python's NaN / Infinity / -Infinity tokens", () => {
    const value = decodeJson('[NaN, Infinity, -Infinity, {"k": [1.5, "NaN"]}]') as unknown[];
    assert.ok(Number.isNaN(value[0]));
    assert.equal(value[1], Infinity);
    assert.equal(value[2], -Infinity);
    assert.deepEqual(value[3], { k: [1.5, 'NaN'] });
  });

  for (const text of ['', 'hello', '{"a": 1', '[1,]', '\ufeff[1]', '[1] x', 'nan', '[NaN, oops]', "{'a': 1}", '[Infinity', '01']) {
    test(`NOT_JSON: ${JSON.stringify(text)}`, () => {
      assert.throws(() => decodeJson(text), notJson);
    });
  }
});

describe('limits: clean errors, never a stack overflow', () => {
  const deep = (n: number, inner: string): string => '['.repeat(n) + inner + ']'.repeat(n);
  test("nesting Python's json cannot read is refused on every path", () => {
    assert.deepEqual(decodeJson(deep(900, '"\\u0041"')), JSON.parse(deep(900, '"A"')));
    assert.throws(() => decodeJson(deep(100_000, '"\\u0041"')), badBody);
    assert.throws(() => decodeJson(deep(100_000, 'NaN')), notJson);
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = [value];
    assert.throws(() => encodeJson(value), /nested more than 1000 levels/);
  });
  test('multi-megabyte strings and base64 values', () => {
    const big = 'x'.repeat(10_000_000);
    assert.equal((decodeJson(`[NaN, "${big}\\n"]`) as string[])[1]?.length, 10_000_001);
    const bytes = decodeJson(`{"__type__": "base64", "__value__": "${Buffer.alloc(3_000_000, 7).toString('base64')}"}`) as Uint8Array;
    assert.equal(bytes.length, 3_000_000);
  });
});

describe('no prototype pollution', () => {
  const texts = [
    '{"__proto__": {"polluted": "yes"}}',
    '[{"__proto__": {"polluted": "yes"}, "v": {"__type__": "decimal", "__value__": "1"}}]',
    '{"__proto__": {"__type__": "decimal", "__value__": "1"}}',
    '{"__proto__": {"polluted": "yes"}, "n": NaN}',
    '{"constructor": {"prototype": {"polluted": "yes"}}, "\\u0041": 1}',
  ];
  for (const text of texts) {
    test(text, () => {
      const value = decodeJson(text) as Record<string, unknown> | Record<string, unknown>[];
      const obj = (Array.isArray(value) ? value[0] : value) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(obj), Object.prototype);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
      if (text.includes('__proto__')) {
        assert.ok(Object.hasOwn(obj, '__proto__'), '__proto__ is an own data property');
        const own = Object.getOwnPropertyDescriptor(obj, '__proto__');
        assert.ok(own && 'value' in own);
      }
    });
  }
  test('an envelope under __proto__ is converted in place, as an own property', () => {
    const obj = decodeJson('{"__proto__": {"__type__": "decimal", "__value__": "1"}}') as Record<string, unknown>;
    assert.equal(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value, '1');
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  });
});
