// bindArguments binds like CPython: every case below was run through the real Python 3.11
// (fixtures/messages/python/gen-arguments.py) for the bound values or the exact TypeError.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { bindArguments } from '../runtime/protocol/arguments.js';
import { ArgumentError } from '../runtime/protocol/errors.js';
import type { ParamSpec, TaskSpec, WireType } from '../runtime/protocol/spec.js';
import { PYTHON, peerMissing } from './support/python.js';

interface ArgumentVector {
  spec: TaskSpec;
  args: unknown[];
  kwargs: Record<string, unknown>;
  bound?: unknown[];
  error?: string;
}
const vectors = (
  JSON.parse(readFileSync(new URL('../fixtures/messages/python/arguments-vectors.json', import.meta.url), 'utf8')) as { cases: ArgumentVector[] }
).cases;

describe('bindArguments = CPython 3.11 argument binding', () => {
  for (const v of vectors) {
    const call = `${v.spec.name.split('.').pop()}(*${JSON.stringify(v.args)}, **${JSON.stringify(v.kwargs)})`;
    test(`${call} → ${v.error ?? JSON.stringify(v.bound)}`, () => {
      if (v.error !== undefined) {
        assert.throws(
          () => bindArguments(v.spec, v.args, v.kwargs),
          (e: unknown) => e instanceof ArgumentError && e.code === 'BAD_ARGUMENTS' && e.pythonType === 'TypeError' && e.message === v.error,
        );
      } else {
        assert.deepEqual(bindArguments(v.spec, v.args, v.kwargs), v.bound);
      }
    });
  }
});

describe('bindArguments builds **kwargs without touching prototypes', () => {
  const spec: TaskSpec = {
    name: 'proj.tasks.echo',
    bind: false,
    options: {},
    params: [
      { name: 'args', kind: 'var_positional', required: false, type: { type: 'unknown' } },
      { name: 'kwargs', kind: 'var_keyword', required: false, type: { type: 'unknown' } },
    ],
  };
  test('__proto__ and constructor are own data keys of an ordinary object', () => {
    const kwargs = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as Record<string, unknown>;
    const [rest, kw] = bindArguments(spec, [1], kwargs) as [unknown[], Record<string, unknown>];
    assert.deepEqual(rest, [1]);
    assert.equal(Object.getPrototypeOf(kw), Object.prototype);
    assert.deepEqual(Object.keys(kw), ['__proto__', 'constructor']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(kw, '__proto__')?.value, { polluted: true });
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal((kw as { polluted?: unknown }).polluted, undefined);
  });

  test('defaults are fresh copies per call', () => {
    const withDefault: TaskSpec = {
      name: 't.f',
      bind: false,
      options: {},
      params: [{ name: 'items', kind: 'positional_or_keyword', required: false, default: [1], type: { type: 'unknown' } }],
    };
    const first = bindArguments(withDefault, [], {})[0] as number[];
    first.push(2);
    assert.deepEqual(bindArguments(withDefault, [], {})[0], [1]);
  });

  test('an optional parameter without a literal default is undefined, so the handler default applies', () => {
    const noLiteral: TaskSpec = {
      name: 't.f',
      bind: false,
      options: {},
      params: [{ name: 'when', kind: 'positional_or_keyword', required: false, type: { type: 'unknown' } }],
    };
    assert.deepEqual(bindArguments(noLiteral, [], {}), [undefined]);
  });
});

describe('bindArguments checks values against the generated wire types', () => {
  const int: WireType = { type: 'number', integer: true };
  const param = (name: string, type: WireType, kind: ParamSpec['kind'] = 'positional_or_keyword'): ParamSpec => ({ name, kind, required: kind === 'positional_or_keyword', type });
  const specOf = (...params: ParamSpec[]): TaskSpec => ({ name: 'proj.tasks.add', bind: false, options: {}, params });

  const rejected: [string, TaskSpec, unknown[], Record<string, unknown>, string][] = [
    ['str for int', specOf(param('x', int)), ['1'], {}, "add() argument 'x' must be int, not str"],
    ['float for int', specOf(param('x', int)), [1.5], {}, "add() argument 'x' must be int, not float"],
    ['bool for int', specOf(param('x', int)), [true], {}, "add() argument 'x' must be int, not bool"],
    ['None for str (by keyword)', specOf(param('x', { type: 'string' })), [], { x: null }, "add() argument 'x' must be str, not NoneType"],
    ['dict for list[int]', specOf(param('x', { type: 'array', items: int })), [{}], {}, "add() argument 'x' must be list[int], not dict"],
    ['a bad list item', specOf(param('x', { type: 'array', items: int })), [[1, 'b']], {}, "add() argument 'x'[1] must be int, not str"],
    ['a short tuple', specOf(param('x', { type: 'tuple', items: [int, int] })), [[1]], {}, "add() argument 'x' must be tuple[int, int], not list"],
    ['a bad record value', specOf(param('x', { type: 'record', values: { type: 'string' } })), [{ a: 1 }], {}, `add() argument 'x'["a"] must be str, not int`],
    [
      'a missing TypedDict key',
      specOf(param('x', { type: 'object', fields: [{ name: 'n', value: int, required: true }] })),
      [{}],
      {},
      `add() argument 'x'["n"] must be int, not nothing`,
    ],
    ['a literal outside the set', specOf(param('x', { type: 'union', members: [{ type: 'literal', value: 'a' }, { type: 'literal', value: 'b' }] })), ['c'], {}, "add() argument 'x' must be Literal['a'] | Literal['b'], not str"],
    ['str for bytes', specOf(param('x', { type: 'bytes' })), ['abc'], {}, "add() argument 'x' must be bytes, not str"],
    ['a bad *args item', specOf(param('args', int, 'var_positional')), [1, 'x'], {}, "add() argument 'args'[1] must be int, not str"],
    ['a bad **kwargs value', specOf(param('kw', int, 'var_keyword')), [], { k: 'x' }, "add() argument 'k' must be int, not str"],
  ];
  for (const [name, spec, args, kwargs, message] of rejected) {
    test(`rejects ${name}`, () => {
      assert.throws(() => bindArguments(spec, args, kwargs), (e: unknown) => e instanceof ArgumentError && e.message === message);
    });
  }

  const accepted: [string, TaskSpec, unknown[], Record<string, unknown>][] = [
    ['int for float', specOf(param('x', { type: 'number' })), [1], {}],
    ['None for Optional[int]', specOf(param('x', { type: 'union', members: [int, { type: 'null' }] })), [null], {}],
    ['anything for unknown', specOf(param('x', { type: 'unknown' })), [{ any: ['thing'] }], {}],
    ['bytes', specOf(param('x', { type: 'bytes' })), [new Uint8Array([1])], {}],
    ['a TypedDict with optional keys absent and extra keys', specOf(param('x', { type: 'object', fields: [{ name: 'n', value: int, required: false }] })), [{ other: 1 }], {}],
  ];
  for (const [name, spec, args, kwargs] of accepted) {
    test(`accepts ${name}`, () => {
      assert.deepEqual(bindArguments(spec, args, kwargs), args);
    });
  }
});

describe('bindArguments agrees with CPython on 2,000 random signatures and calls', () => {
  const skip = peerMissing();
  const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const signature = fc
    .record({
      posOnly: fc.nat(2),
      pk: fc.nat(3),
      varPos: fc.boolean(),
      kwOnly: fc.nat(2),
      varKw: fc.boolean(),
      firstDefault: fc.nat(5),
      kwOnlyDefaults: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      bind: fc.boolean(),
    })
    .map((r): TaskSpec => {
      const params: ParamSpec[] = [];
      const unknown: WireType = { type: 'unknown' };
      let n = 0;
      const positional = r.posOnly + r.pk;
      for (let i = 0; i < positional; i++) {
        const hasDefault = i >= r.firstDefault;
        params.push({
          name: NAMES[n++] as string,
          kind: i < r.posOnly ? 'positional_only' : 'positional_or_keyword',
          required: !hasDefault,
          type: unknown,
          ...(hasDefault ? { default: i * 10 } : {}),
        });
      }
      if (r.varPos) params.push({ name: 'args', kind: 'var_positional', required: false, type: unknown });
      for (let i = 0; i < r.kwOnly; i++) {
        const hasDefault = r.kwOnlyDefaults[i] === true;
        params.push({ name: NAMES[n++] as string, kind: 'keyword_only', required: !hasDefault, type: unknown, ...(hasDefault ? { default: 'd' } : {}) });
      }
      if (r.varKw) params.push({ name: 'kwargs', kind: 'var_keyword', required: false, type: unknown });
      return { name: 'proj.tasks.fn', bind: r.bind, options: {}, params };
    });
  const call = fc.record({
    args: fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 6 }),
    kwargs: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'z', 'args', 'kwargs'), fc.integer({ min: 0, max: 99 }), { maxKeys: 4, noNullPrototype: true }),
  });
  test('same bound values, or the same TypeError text (fast-check sample, fixed seed; CPython as the oracle)', { skip }, () => {
    const cases = fc.sample(fc.tuple(signature, call), { seed: 20261128, numRuns: 2000 });
    const oracle = fileURLToPath(new URL('../fixtures/messages/python/bind-oracle.py', import.meta.url));
    const input = cases.map(([spec, c]) => JSON.stringify({ spec, args: c.args, kwargs: c.kwargs })).join('\n') + '\n';
    const run = spawnSync(PYTHON, [oracle], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(run.status, 0, run.stderr);
    const answers = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { bound?: unknown[]; error?: string });
    let errors = 0;
    cases.forEach(([spec, c], i) => {
      const answer = answers[i];
      assert.ok(answer);
      const where = `case #${i}: ${JSON.stringify({ params: spec.params.map((p) => `${p.kind}:${p.name}${p.required ? '' : '?'}`), bind: spec.bind, ...c })}`;
      if (answer.error !== undefined) {
        errors++;
        assert.throws(() => bindArguments(spec, c.args, c.kwargs), (e: unknown) => e instanceof ArgumentError && e.message === answer.error, where);
      } else {
        assert.deepEqual(bindArguments(spec, c.args, c.kwargs), answer.bound, where);
      }
    });
    assert.ok(errors > 200 && errors < 1800, `both outcomes exercised (${errors} TypeErrors)`);
  });
});
