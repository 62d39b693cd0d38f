// Runs values through the real Python (fixtures/messages/python/oracle.py): kombu's json
// dumps(), Celery's saferepr() and repr(), for property tests that use Python as the oracle.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PyTuple } from '../../runtime/protocol/pyrepr.js';
import { PYTHON } from './python.js';

const ORACLE = fileURLToPath(new URL('../../fixtures/messages/python/oracle.py', import.meta.url));

export interface OracleAnswer {
  json: string | null;
  saferepr: string;
  repr: string;
}

/** The JSON line that stands for a JS value in oracle.py's input format. */
export function toOracleForm(value: unknown): unknown {
  if (typeof value === 'number') {
    // Integral values below 1e21 are Python ints (JSON.stringify writes their digits).
    if (Number.isInteger(value) && Math.abs(value) < 1e21 && !Object.is(value, -0)) return value;
    return { $float: Object.is(value, -0) ? '-0.0' : String(value) };
  }
  if (value instanceof PyTuple) return { $tuple: value.items.map(toOracleForm) };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(toOracleForm);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: toOracleForm(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

export function askPython(values: readonly unknown[]): OracleAnswer[] {
  const input = values.map((v) => JSON.stringify(toOracleForm(v))).join('\n') + '\n';
  const run = spawnSync(PYTHON, [ORACLE], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`oracle.py failed: ${run.stderr}`);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as OracleAnswer);
}
