// Celery 5.2's own receiving code as the oracle (fixtures/messages/python/request-oracle.py:
// kombu Message → hybrid conversion → celery.worker.request.Request, no broker needed):
// - every message encodeTaskMessage writes is accepted and read back field for field;
// - every message decodeTaskMessage accepts is one Python's worker accepts too (we are
//   stricter on header types, never looser, so nothing reaches a handler that Python would
//   have refused).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../runtime/protocol/errors.js';
import { decodeJson, encodeJson } from '../runtime/protocol/kombu-json.js';
import { decodeTaskMessage, encodeTaskMessage, parseIso, type OutgoingMessage, type TaskMessageInput } from '../runtime/protocol/message.js';
import { PYTHON, peerMissing } from './support/python.js';

interface PythonReading {
  ok: boolean;
  error?: string;
  id?: string;
  name?: string;
  args?: string;
  kwargs?: string;
  eta?: string | null;
  expires?: string | null;
  argsrepr?: string;
  kwargsrepr?: string;
  time_limits?: [number | null, number | null];
  root_id?: string | null;
  parent_id?: string | null;
  chain?: string;
}

interface RawMessage {
  headers: Record<string, unknown>;
  body: Buffer;
  contentType: string;
  contentEncoding: string;
  properties: Record<string, unknown>;
}

function askCelery(messages: readonly RawMessage[]): PythonReading[] {
  const oracle = fileURLToPath(new URL('../fixtures/messages/python/request-oracle.py', import.meta.url));
  const input =
    messages
      .map((m) =>
        JSON.stringify({ headers: m.headers, body_b64: m.body.toString('base64'), content_type: m.contentType, content_encoding: m.contentEncoding, properties: m.properties }),
      )
      .join('\n') + '\n';
  const run = spawnSync(PYTHON, [oracle], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PythonReading);
}

const SEED = 20261128;
const text = fc.string({ unit: 'binary', maxLength: 20 });
const isoDate = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
const signature = fc.record({
  task: fc.constantFrom('proj.tasks.add', 'proj.tasks.mul'),
  args: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 2 }),
  kwargs: fc.constant({}),
  options: fc.record({ task_id: fc.uuid(), reply_to: fc.uuid() }),
  subtask_type: fc.constant(null),
  immutable: fc.boolean(),
});

describe('Celery 5.2 reads what encodeTaskMessage writes (1,000 random messages)', () => {
  const skip = peerMissing();
  test('accepted, with the same id, name, args, kwargs, eta, expires, reprs, time limits, ids and chain', { skip }, () => {
    const inputs = fc.sample(
      fc.record({
        id: fc.uuid(),
        task: fc.stringMatching(/^[a-z_][a-z0-9_.]{0,30}$/),
        args: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }),
        kwargs: fc.dictionary(text, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4, noNullPrototype: true }).filter((k) => !(Object.hasOwn(k, '__type__') && Object.hasOwn(k, '__value__'))),
        replyTo: fc.uuid(),
        origin: text,
        eta: fc.option(fc.oneof(isoDate, isoDate.map((d) => d.toISOString().replace('Z', '+00:00'))), { nil: null }),
        expires: fc.option(isoDate, { nil: null }),
        retries: fc.nat(1000),
        timeLimit: fc.tuple(fc.option(fc.nat(3600), { nil: null }), fc.option(fc.nat(3600), { nil: null })),
        rootId: fc.option(fc.uuid(), { nil: null }),
        parentId: fc.option(fc.uuid(), { nil: null }),
        shadow: fc.option(fc.stringMatching(/^[a-z]{1,10}$/), { nil: null }),
        ignoreResult: fc.boolean(),
        embed: fc.record({ chain: fc.option(fc.array(signature, { minLength: 1, maxLength: 3 }), { nil: null }) }),
        serializer: fc.constantFrom('json' as const, 'msgpack' as const),
        argsReprStyle: fc.constantFrom('tuple' as const, 'list' as const),
      }),
      { seed: SEED, numRuns: 1000 },
    );
    const outs: OutgoingMessage[] = inputs.map((input) => encodeTaskMessage(input as TaskMessageInput));
    const readings = askCelery(
      outs.map((out) => ({
        headers: out.headers,
        body: out.body,
        contentType: out.properties.contentType,
        contentEncoding: out.properties.contentEncoding,
        properties: { correlation_id: out.properties.correlationId, reply_to: out.properties.replyTo },
      })),
    );
    inputs.forEach((input, i) => {
      const py = readings[i];
      const where = `message #${i}`;
      assert.ok(py?.ok, `${where}: Python refused it: ${py?.error}`);
      assert.equal(py.id, input.id, where);
      assert.equal(py.name, input.shadow ?? input.task, where);
      // The same values; for JSON also the same text (msgpack carries big integral doubles as
      // their exact integer, which Python prints with all digits).
      assert.deepEqual(decodeJson(py.args ?? ''), input.args, where);
      assert.deepEqual(decodeJson(py.kwargs ?? ''), input.kwargs, where);
      if (input.serializer === 'json') {
        assert.equal(py.args, encodeJson(input.args), where);
        assert.equal(py.kwargs, encodeJson(input.kwargs), where);
      }
      const at = (v: Date | string | null): number | null => (v === null ? null : typeof v === 'string' ? parseIso(v) : v.getTime());
      assert.equal(py.eta === null ? null : parseIso(py.eta as string), at(input.eta), `${where}: eta`);
      assert.equal(py.expires === null ? null : parseIso(py.expires as string), at(input.expires), `${where}: expires`);
      assert.equal(py.argsrepr, outs[i]?.headers['argsrepr'], where);
      assert.equal(py.kwargsrepr, outs[i]?.headers['kwargsrepr'], where);
      assert.deepEqual(py.time_limits, input.timeLimit, where);
      assert.equal(py.root_id, input.rootId ?? input.id, where);
      assert.equal(py.parent_id, input.parentId, where);
      assert.equal(py.chain, encodeJson(input.embed.chain), where);
    });
  });
});

describe('what decodeTaskMessage accepts, Celery 5.2 accepts (3,000 hostile messages)', () => {
  const skip = peerMissing();
  test('never looser than Python (fast-check sample, fixed seed)', { skip }, () => {
    const headerNames = ['lang', 'task', 'id', 'shadow', 'eta', 'expires', 'group', 'group_index', 'retries', 'timelimit', 'root_id', 'parent_id', 'argsrepr', 'kwargsrepr', 'origin', 'ignore_result'];
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.uuid(),
      fc.constantFrom('2026-11-28T18:20:18.920616+00:00', '2026-11-28T18:20:18Z', '2026-11-28', '2026-11-28 18:20', '', 'not a date', '2026-02-30', [null, null], [300, 200], [1], 'proj.tasks.add'),
    );
    const headers = fc
      .tuple(fc.oneof(fc.uuid(), value), fc.dictionary(fc.constantFrom(...headerNames), value, { maxKeys: 5, noNullPrototype: true }))
      .map(([id, extra]) => ({ id, ...extra, task: 'proj.tasks.add' }));
    const body = fc.oneof(
      fc.tuple(
        fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 })), fc.jsonValue({ maxDepth: 1 })),
        fc.oneof(fc.dictionary(text, fc.jsonValue({ maxDepth: 1 }), { noNullPrototype: true }), fc.jsonValue({ maxDepth: 1 })),
        fc.oneof(fc.constant({ callbacks: null, errbacks: null, chain: null, chord: null }), fc.constant(null), fc.jsonValue({ maxDepth: 2 })),
      ),
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ args: fc.jsonValue({ maxDepth: 1 }), kwargs: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }),
    );
    const samples = fc.sample(fc.tuple(headers, body), { seed: SEED, numRuns: 3000 });
    const messages: RawMessage[] = samples.map(([h, b]) => ({
      headers: h,
      body: Buffer.from(JSON.stringify(b) ?? 'null'),
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      properties: {},
    }));
    const readings = askCelery(messages);
    let accepted = 0;
    messages.forEach((m, i) => {
      let ours = true;
      try {
        decodeTaskMessage({ body: m.body, contentType: m.contentType, contentEncoding: m.contentEncoding, headers: m.headers });
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        ours = false;
      }
      if (ours) {
        accepted++;
        assert.ok(readings[i]?.ok, `message #${i} ${JSON.stringify(m.headers)} ${m.body.toString().slice(0, 200)}: we accept it, Python raised ${readings[i]?.error}`);
      }
    });
    assert.ok(accepted > 100, `enough accepted messages to mean something (${accepted})`);
  });
});
