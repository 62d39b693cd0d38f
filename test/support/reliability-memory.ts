/**
 * Drives the long-run memory measurement: starts reliability-memory-worker.ts as a child
 * process with --expose-gc, publishes tasks through the generated client (bounded in
 * flight, every result awaited), and asks the worker for a post-GC RSS sample at 10k,
 * 25k, 50k and the total.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Celery, silentLogger } from 'celery-gen';
import { createClient } from '../../fixtures/interop/tasks.js';
import { BROKER_URL, rawBroker, uniqueQueue } from './broker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface MemoryRun {
  readonly samples: readonly { tasks: number; rss: number }[];
  /** (RSS at the total - RSS at 10k) / RSS at 10k. */
  readonly growth: number;
  readonly ms: number;
}

export async function measureWorkerMemory(total: number, inFlight = 500): Promise<MemoryRun> {
  const queue = uniqueQueue('relmemory');
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/support/reliability-memory-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, CELERY_GEN_BROKER: BROKER_URL, CELERY_GEN_QUEUE: queue },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the worker process ended early');
    return value;
  };
  const app = new Celery({ broker: BROKER_URL, defaultQueue: queue, logger: silentLogger });
  try {
    if ((await nextLine()) !== 'ready') throw new Error('worker not ready');
    const tasks = createClient(app);
    const samples: { tasks: number; rss: number }[] = [];
    const checkpoints = [10_000, 25_000, 50_000, total].filter((n, i, all) => n <= total && all.indexOf(n) === i);
    let sent = 0;
    const started = performance.now();
    for (const checkpoint of checkpoints) {
      const worker = async (): Promise<void> => {
        while (sent < checkpoint) {
          const i = sent++;
          const value = await (await tasks.add.delay(i, 1)).get({ timeout: 60_000 });
          if (value !== i + 1) throw new Error(`task ${i} returned ${value}`);
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      child.stdin!.write('sample\n');
      const [word, rss, ran] = (await nextLine()).split(' ');
      if (word !== 'rss' || Number(ran) < checkpoint) throw new Error(`unexpected sample ${word} ${rss} ${ran}`);
      samples.push({ tasks: checkpoint, rss: Number(rss) });
    }
    const ms = performance.now() - started;
    const base = samples[0]!.rss;
    return { samples, growth: (samples[samples.length - 1]!.rss - base) / base, ms };
  } finally {
    child.stdin!.write('stop\n');
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => resolve(clearTimeout(timer)));
    });
    await app.close();
    const raw = await rawBroker();
    await raw.close([queue]);
  }
}
