/**
 * The examples/ directory runs as its comments say, in both directions, against the real
 * Python Celery (on a private queue instead of `celery`, through EXAMPLE_QUEUE).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { BROKER_URL, rawBroker, uniqueQueue, waitFor } from './support/broker.js';
import { PYTHON, interopSkip, startPythonWorker } from './support/python.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

function run(command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, output: () => output };
}

test('examples/tasks.ts is what celery-gen generates from examples/tasks.py', () => {
  const check = spawnSync(process.execPath, ['bin/celery-gen.js', 'examples/tasks.py', '-o', 'examples/tasks.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
});

describe('examples', { skip: await interopSkip() }, () => {
  const queue = uniqueQueue('examples');
  const env = { CELERY_BROKER_URL: BROKER_URL, EXAMPLE_QUEUE: queue };

  after(async () => {
    const broker = await rawBroker();
    await broker.close([queue]);
  });

  test('ts-client.ts against the Python worker', async () => {
    const worker = await startPythonWorker(queue, { cwd: EXAMPLES, env });
    try {
      const client = run(process.execPath, ['--import', 'tsx', 'examples/ts-client.ts'], ROOT, env);
      assert.equal(await client.exit, 0, client.output());
      assert.match(client.output(), /add\(2, 3\) = 5/);
      assert.match(client.output(), /HELLO, ANN!/);
      assert.match(client.output(), /total 3150/);
      assert.match(client.output(), /divide\(1, 0\) failed in Python: ZeroDivisionError: (float )?division by zero/);
    } finally {
      await worker.stop();
    }
  });

  test('py_client.py against ts-worker.ts, which stops cleanly on SIGINT', async () => {
    const worker = run(process.execPath, ['--import', 'tsx', 'examples/ts-worker.ts'], ROOT, env);
    try {
      await waitFor(() => worker.output().includes(' ready.'), 20_000, 'the TS worker to be ready');
      const client = run(PYTHON, ['py_client.py'], EXAMPLES, env);
      assert.equal(await client.exit, 0, client.output());
      assert.match(client.output(), /add\(2, 3\) = 5/);
      assert.match(client.output(), /HELLO, ANN!/);
      assert.match(client.output(), /'total_cents': 3150/);
      assert.match(client.output(), /divide\(1, 0\) raised ZeroDivisionError in the TS worker: float division by zero/);
      worker.child.kill('SIGINT');
      assert.equal(await worker.exit, 0, worker.output());
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  });
});
