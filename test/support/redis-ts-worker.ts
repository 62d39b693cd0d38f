/**
 * A TS worker process on the Celery app, for the tests that SIGKILL a worker mid-task.
 * Usage: node --import tsx redis-ts-worker.ts <broker url> <backend url> <queue> <visibility seconds>
 * Prints `ready` once consuming.
 */
import { Celery, silentLogger } from 'celery-gen';
import { handlers } from '../../fixtures/redis-interop/handlers.js';
import { createWorker } from '../../fixtures/redis-interop/tasks.js';

const [broker, backend, queue, visibility] = process.argv.slice(2) as [string, string, string, string];
const app = new Celery({ broker, backend, logger: silentLogger, brokerTransportOptions: { visibilityTimeout: Number(visibility) } });
await createWorker(app, handlers, { queues: [queue], handleSignals: false }).start();
process.stdout.write('ready\n');
