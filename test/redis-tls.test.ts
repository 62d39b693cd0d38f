/**
 * rediss:// and passwords, for real: a private redis-server with TLS only and
 * `requirepass`, started for this file (self-signed certificate made with openssl) and
 * killed in teardown. A Python Celery worker and client use the same URLs.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Celery, TaskError, type Logger } from 'celery-gen';
import { handlers } from '../fixtures/redis-interop/handlers.js';
import { createClient, createWorker } from '../fixtures/redis-interop/tasks.js';
import { redisPeerMissing, runDriver, startPythonRedisWorker, type PythonOutcome, type PythonRedisWorker, uniqueQueue, waitUntil } from './support/redis.js';

const PASSWORD = 'tls-test-Secret-42';

function toolsMissing(): string | false {
  const peer = redisPeerMissing();
  if (peer) return peer;
  for (const [tool, flag] of [['openssl', 'version'], ['redis-server', '--version']] as const) {
    if (spawnSync(tool, [flag], { encoding: 'utf8' }).error) {
      const why = `${tool} is not installed (apt-get install -y openssl redis-server)`;
      if (process.env.CELERY_GEN_REQUIRE_PEERS === '1') throw new Error(why);
      return why;
    }
  }
  return false;
}

const skip = toolsMissing();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function recordingLogger(lines: string[]): Logger {
  const record = (level: string) => (message: string, fields?: Readonly<Record<string, unknown>>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

describe('rediss:// with a password, against a TLS-only Redis and Python Celery', { skip }, () => {
  let dir = '';
  let server: ChildProcess | undefined;
  let port = 0;
  let cert = '';
  const url = (db: number, query = `ssl_cert_reqs=CERT_REQUIRED&ssl_ca_certs=${encodeURIComponent(cert)}`) =>
    `rediss://:${PASSWORD}@127.0.0.1:${port}/${db}?${query}`;
  const workers: PythonRedisWorker[] = [];
  const apps: Celery[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cg-redis-tls-'));
    cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    port = await freePort();
    server = spawn(
      'redis-server',
      ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    server.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    await waitUntil(() => log.includes('Ready to accept connections'), 10_000, `redis-server with TLS to start:\n${log}`);
  });

  after(async () => {
    for (const w of workers) await w.kill();
    await Promise.allSettled(apps.map((a) => a.close()));
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('TS client → Python worker and Python client → TS worker over TLS; the password never reaches a log line', async () => {
    const lines: string[] = [];
    const app = new Celery({ broker: url(0), backend: url(1), logger: recordingLogger(lines) });
    apps.push(app);
    const peer = { broker: url(0), backend: url(1) };
    const pyQueue = uniqueQueue('redis_tls_py');
    workers.push(await startPythonRedisWorker(pyQueue, peer));
    const tasks = createClient(app);
    assert.equal(await (await tasks.add.applyAsync([20, 1], {}, { queue: pyQueue })).get({ timeout: 15_000 }), 21);

    const tsQueue = uniqueQueue('redis_tls_ts');
    const worker = createWorker(app, handlers, { queues: [tsQueue], handleSignals: false });
    await worker.start();
    const outcomes = await runDriver<PythonOutcome[]>({ op: 'call', calls: [{ task: 'redis_tasks.add', args: [3, 4], options: { queue: tsQueue } }] }, peer);
    assert.equal(outcomes[0]!.ok && outcomes[0]!.value, 7);
    await worker.stop();
    assert.ok(lines.some((l) => l.includes('ready.')), 'the worker logged');
    assert.ok(lines.every((l) => !l.includes(PASSWORD)), lines.join('\n'));
  });

  test('the certificate is verified: a CA that did not sign it fails the connection, with the URL redacted', async () => {
    const lines: string[] = [];
    const app = new Celery({ broker: url(0, 'ssl_cert_reqs=CERT_REQUIRED'), backend: url(1, 'ssl_cert_reqs=CERT_REQUIRED'), logger: recordingLogger(lines) });
    apps.push(app);
    await assert.rejects(app.redisBroker.connect(3000), (e: unknown) => e instanceof Error && e.message.includes(':***@') && !e.message.includes(PASSWORD));
    assert.ok(lines.some((l) => /certificate/i.test(l)), lines.join('\n'));
    assert.ok(lines.every((l) => !l.includes(PASSWORD)));
    await app.close();
  });

  test('a wrong password is an error, not a hang', async () => {
    const wrong = `rediss://:not-it@127.0.0.1:${port}/0?ssl_cert_reqs=CERT_REQUIRED&ssl_ca_certs=${encodeURIComponent(cert)}`;
    const app = new Celery({ broker: wrong, backend: 'rpc://', logger: recordingLogger([]) });
    apps.push(app);
    await assert.rejects(createClient(app).add.delay(1, 1), (e: unknown) => e instanceof Error && /WRONGPASS|NOAUTH/.test(e.message) && !(e instanceof TaskError));
    await app.close();
  });
});
