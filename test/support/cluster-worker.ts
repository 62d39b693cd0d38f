/**
 * The worker process of cluster-failover.test.ts: a TS worker on a quorum queue reached
 * through a URL list. It prints `READY` once consuming, then `RAN <task id> <epoch ms>` for
 * every run (duplicates included), so the test can count them without a result backend.
 * Usage: node --import tsx test/support/cluster-worker.ts <queue> <url;url;…> <concurrency>
 */
import { Celery, consoleLogger, defineTask, implementTask } from 'celery-gen';

const [queue, broker, concurrency = '4'] = process.argv.slice(2);
if (!queue || !broker) throw new Error('usage: cluster-worker.ts <queue> <urls> [concurrency]');

const app = new Celery({ broker, defaultQueue: queue, defaultQueueType: 'quorum', logger: consoleLogger('warn'), reconnect: { initialDelay: 100, maxDelay: 2000 } });
const spec = defineTask<[n: number], { n?: number }, number>({
  name: 'cluster.tick',
  bind: true,
  params: [{ name: 'n', kind: 'positional_or_keyword', required: true, type: { type: 'number', integer: true } }],
  options: {},
});
const tick = implementTask(spec, (context: { id: string }, n: number) => {
  process.stdout.write(`RAN ${context.id} ${Date.now()}\n`);
  return n;
});
app.transport.on('connect', ({ url }) => process.stdout.write(`CONNECT ${url} ${Date.now()}\n`));
const worker = app.createWorker([tick], { concurrency: Number(concurrency), heartbeat: false, remoteControl: false });
await worker.start();
process.stdout.write('READY\n');
