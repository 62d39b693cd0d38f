/**
 * The tasks of runtime-log-level.test.ts, shared with its child process
 * (log-level-child.ts): a success, a failure and a retry on one worker, Redis db 10/11.
 */
import assert from 'node:assert/strict';
import { Celery, defineTask, implementTask, type TaskContext } from 'celery-gen';
import { uniqueQueue } from './broker.js';

export const BROKER = 'redis://127.0.0.1:6379/10';
export const BACKEND = 'redis://127.0.0.1:6379/11';

export const ADD = defineTask<[x: number, y: number], { x?: number; y?: number }, number>({
  name: 'loglevel.add',
  bind: false,
  params: [
    { name: 'x', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } },
    { name: 'y', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } },
  ],
  options: {},
});
export const FAIL = defineTask<[], Record<string, never>, never>({ name: 'loglevel.fail', bind: false, params: [], options: {} });
export const FLAKY = defineTask<[], Record<string, never>, number>({ name: 'loglevel.flaky', bind: true, params: [], options: { max_retries: 1, default_retry_delay: 0 } });

const implementations = [
  implementTask(ADD, (x: number, y: number) => x + y),
  implementTask(FAIL, () => {
    throw new TypeError('meant to fail');
  }),
  implementTask(FLAKY, (ctx: TaskContext) => {
    if (ctx.retries < 1) ctx.retry({ countdown: 0 });
    return ctx.retries;
  }),
];

/** Runs add, fail and flaky on one worker of an app built with `options`; returns when all three are done. */
export async function runThree(options: ConstructorParameters<typeof Celery>[0], workerLevel?: 'info'): Promise<void> {
  const queue = uniqueQueue('log_level');
  const app = new Celery({ broker: BROKER, backend: BACKEND, defaultQueue: queue, ...options });
  try {
    const worker = app.createWorker(implementations, { queues: [queue], handleSignals: false, heartbeat: false, remoteControl: false, ...(workerLevel ? { logLevel: workerLevel } : {}) });
    await worker.start();
    assert.equal(await (await app.sendTask(ADD.name, [2, 3], {}, {}, ADD)).get({ timeout: 10_000 }), 5);
    await assert.rejects((await app.sendTask(FAIL.name, [], {}, {}, FAIL)).get({ timeout: 10_000 }), /meant to fail/);
    assert.equal(await (await app.sendTask(FLAKY.name, [], {}, {}, FLAKY)).get({ timeout: 10_000 }), 1);
    await worker.stop();
  } finally {
    await app.close();
  }
}

