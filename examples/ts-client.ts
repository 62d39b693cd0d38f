/**
 * TypeScript client → Python worker.
 *
 *   cd examples && /usr/bin/python3 -m celery -A tasks worker -P solo -l info   # terminal 1
 *   node --import tsx examples/ts-client.ts                                     # terminal 2, repo root
 */
import { Celery, TaskError } from 'celery-gen';
import { createClient } from './tasks.js';

const app = new Celery({
  broker: process.env.CELERY_BROKER_URL ?? 'amqp://guest:guest@127.0.0.1:5672//',
  backend: 'rpc://',
  defaultQueue: process.env.EXAMPLE_QUEUE ?? 'celery',
});
const tasks = createClient(app);

try {
  const sum = await (await tasks.add.delay(2, 3)).get({ timeout: 10_000 });
  console.log('add(2, 3) =', sum);

  const greeting = await (await tasks.greet.applyAsync(['Ann'], { shout: true })).get({ timeout: 10_000 });
  console.log('greet("Ann", shout=True) =', greeting);

  const invoice = await (await tasks.makeInvoice.delay('ACME', [1000, 2500], 0.1)).get({ timeout: 10_000 });
  console.log('make_invoice(...) =', invoice, '-> total', invoice.total_cents);

  try {
    await (await tasks.divide.delay(1, 0)).get({ timeout: 10_000 });
  } catch (error) {
    if (!(error instanceof TaskError)) throw error;
    console.log(`divide(1, 0) failed in Python: ${error.excType}: ${String(error.excMessage[0])}`);
  }
} finally {
  await app.close();
}
