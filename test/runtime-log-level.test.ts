/**
 * Log levels as Python's worker has them (issue 15): the per-task lines (received,
 * succeeded, retried) are info, and the default level is warn, so a worker run with
 * defaults writes nothing per task while failures still reach the log. Real Redis broker
 * and backend (db 10 and 11, this file's own), real worker; the default logger's stderr is
 * read from a child process, as a user would see it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { consoleLogger } from 'celery-gen';
import { memoryLogger } from './support/broker.js';
import { ADD, BACKEND, BROKER, FAIL, FLAKY, runThree } from './support/log-level-tasks.js';
import { redisPeerMissing } from './support/redis.js';

const skip = redisPeerMissing();

const perTask = (messages: readonly string[], task: string, what: RegExp) => messages.filter((m) => m.startsWith(`Task ${task}[`) && what.test(m));

describe('worker log levels', { skip }, () => {
  before(async () => {
    const redis = new Redis(BROKER);
    await redis.flushdb();
    redis.disconnect();
  });
  after(async () => {
    for (const url of [BROKER, BACKEND]) {
      const redis = new Redis(url);
      await redis.flushdb();
      redis.disconnect();
    }
  });

  test("logLevel 'info': a line per task received, succeeded and retried; the failure at error", async () => {
    const log = memoryLogger();
    await runThree({ logger: log.logger, logLevel: 'info' });
    const info = log.lines.filter((l) => l.level === 'info').map((l) => l.message);
    assert.equal(perTask(info, ADD.name, / received$/).length, 1, info.join('\n'));
    assert.equal(perTask(info, ADD.name, / succeeded in \d+\.\d{3}s$/).length, 1, info.join('\n'));
    assert.equal(perTask(info, FLAKY.name, / retry: Retry in 0s/).length, 1, info.join('\n'));
    assert.equal(perTask(info, FLAKY.name, / received$/).length, 2, 'the retry is received again');
    const errors = log.lines.filter((l) => l.level === 'error').map((l) => l.message);
    assert.equal(perTask(errors, FAIL.name, / raised TypeError: meant to fail$/).length, 1, errors.join('\n'));
  });

  test("logLevel 'warn' over a given logger: no per-task line reaches it, the failure still does", async () => {
    const log = memoryLogger();
    await runThree({ logger: log.logger, logLevel: 'WARN' });
    assert.deepEqual(
      log.lines.filter((l) => l.level === 'info' || l.level === 'debug'),
      [],
    );
    assert.equal(perTask(log.lines.map((l) => l.message), FAIL.name, / raised TypeError/).length, 1);
  });

  test("the worker's logLevel overrides the app's", async () => {
    const log = memoryLogger();
    await runThree({ logger: log.logger, logLevel: 'error' }, 'info');
    assert.equal(perTask(log.lines.filter((l) => l.level === 'info').map((l) => l.message), ADD.name, / succeeded in /).length, 1);
  });

  test("a logger's own isLevelEnabled (as pino's) is asked before a per-task line is built", async () => {
    const log = memoryLogger();
    await runThree({ logger: { ...log.logger, isLevelEnabled: (level) => level !== 'info' && level !== 'debug' } });
    assert.deepEqual(log.lines.filter((l) => l.message.startsWith('Task ') && l.level === 'info'), []);
    assert.equal(perTask(log.lines.map((l) => l.message), FAIL.name, / raised TypeError/).length, 1);
  });

  test('levels: any case, Python names, unknown names refused', () => {
    assert.equal(consoleLogger('warn').isLevelEnabled?.('info'), false);
    assert.equal(consoleLogger('warn').isLevelEnabled?.('warn'), true);
    assert.equal(consoleLogger('INFO').isLevelEnabled?.('info'), true);
    assert.equal(consoleLogger('WARNING').isLevelEnabled?.('info'), false);
    assert.throws(() => consoleLogger('loud' as 'info'), /unknown log level 'loud'/);
  });

  for (const [what, env, shown] of [
    ['the default level (warn)', undefined, false],
    ['CELERY_GEN_LOG_LEVEL=INFO', 'INFO', true],
  ] as const) {
    test(`default logger, ${what}: per-task lines on stderr ${shown ? 'shown' : 'absent'}, failures always`, async () => {
      const stderr = await runChild(env);
      assert.equal(/INFO Task loglevel\.add\[[^\]]+\] received/.test(stderr), shown, stderr);
      assert.equal(/INFO Task loglevel\.add\[[^\]]+\] succeeded in/.test(stderr), shown, stderr);
      assert.equal(/INFO Task loglevel\.flaky\[[^\]]+\] retry: Retry in 0s/.test(stderr), shown, stderr);
      assert.match(stderr, /ERROR Task loglevel\.fail\[[^\]]+\] raised TypeError: meant to fail/);
    });
  }
});

/** support/log-level-child.ts: the same three tasks with the default logger; resolves with its stderr. */
function runChild(level: string | undefined): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CELERY_GEN_LOG_LEVEL;
  if (level !== undefined) env.CELERY_GEN_LOG_LEVEL = level;
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./support/log-level-child.ts', import.meta.url))], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stderr);
      else reject(new Error(`child exited ${code}:\n${stderr}`));
    });
  });
}
