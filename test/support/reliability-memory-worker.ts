/**
 * The worker process of the long run (bench/reliability-memory.bench.ts and
 * test/reliability-memory.test.ts): one TS worker on a queue, run with --expose-gc. On each
 * `sample` line on stdin it forces garbage collection and prints `rss <bytes> <tasks run>`.
 *
 *   CELERY_GEN_QUEUE=q node --expose-gc --import tsx test/support/reliability-memory-worker.ts
 */
import { createInterface } from 'node:readline';
import { Celery, implementTask, silentLogger } from 'celery-gen';
import { TASK_SPECS } from '../../fixtures/interop/tasks.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const app = new Celery({ broker: process.env.CELERY_GEN_BROKER ?? 'amqp://guest:guest@127.0.0.1:5672//', logger: silentLogger });
let ran = 0;
const worker = app.createWorker(
  [
    implementTask(TASK_SPECS.add, (x: number, y: number) => {
      ran++;
      return x + y;
    }),
  ],
  { queues: [process.env.CELERY_GEN_QUEUE ?? 'celery'], concurrency: Number(process.env.CELERY_GEN_CONCURRENCY ?? 16), handleSignals: false },
);
await worker.start();
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'sample') {
    // Several passes: the first may only schedule finalizers whose memory the next frees.
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    process.stdout.write(`rss ${process.memoryUsage().rss} ${ran}\n`);
  } else if (line === 'stop') break;
}
await app.close();
