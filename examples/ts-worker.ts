/**
 * Python client → TypeScript worker: the handlers implement the generated TaskHandlers.
 *
 *   node --import tsx examples/ts-worker.ts          # terminal 1, repo root; Ctrl-C stops it gracefully
 *   cd examples && /usr/bin/python3 py_client.py     # terminal 2
 */
import { Celery } from 'celery-gen';
import { createWorker, type TaskHandlers } from './tasks.js';

/** Named like the Python builtin, so a Python caller can `except ZeroDivisionError`. */
class ZeroDivisionError extends Error {
  override name = 'ZeroDivisionError';
}

const handlers: TaskHandlers = {
  add: (x, y) => x + y,
  greet: (name, greeting, shout) => {
    const text = `${greeting}, ${name}!`;
    return shout ? text.toUpperCase() : text;
  },
  makeInvoice: async (customer, items, discount) => {
    const total = items.reduce((sum, cents) => sum + cents, 0);
    return { customer, total_cents: discount ? Math.round(total * (1 - discount)) : total, paid: false };
  },
  divide: (a, b) => {
    if (b === 0) throw new ZeroDivisionError('float division by zero');
    return a / b;
  },
};

const app = new Celery({
  broker: process.env.CELERY_BROKER_URL ?? 'amqp://guest:guest@127.0.0.1:5672//',
  defaultQueue: process.env.EXAMPLE_QUEUE ?? 'celery',
  // As `celery worker -l info`: a line per task received and done (the default, warn, prints none).
  logLevel: 'info',
});
// SIGINT/SIGTERM: stop taking messages, finish running tasks, ack them, close, exit 0.
await createWorker(app, handlers, { concurrency: 4 }).start();
