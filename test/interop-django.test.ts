/**
 * A Django project (fixtures/django-project, laid out as Celery's Django guide lays it
 * out): the app takes every setting from Django's settings with namespace='CELERY', the
 * settings module named by DJANGO_SETTINGS_MODULE in shop/celery.py, its routes in
 * settings/base.py behind a star import, its default queue in settings/production.py.
 * The generated client's calls are answered by a real Python worker that loads those very
 * settings through Django and consumes ONLY the two queues they name (never `celery`): a
 * task published where Python would not publish it times out.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Celery, chain, signature, silentLogger, step } from 'celery-gen';
import { TASK_SPECS, createClient, type TaskClients } from '../fixtures/django-project/tasks.js';
import { BROKER_URL } from './support/broker.js';
import { clientAndPythonWorker } from './support/client-peer.js';
import { ROOT_DIR } from './support/generator-fixtures.js';
import { generateLikeGolden } from './support/project-tree.js';
import { djangoMissing, interopSkip } from './support/python.js';

const skip = (await interopSkip()) || djangoMissing();
const GET = { timeout: 15_000 };
const PROJECT = join(ROOT_DIR, 'fixtures/django-project');
/** The queues the Django settings name; unique to this test. */
const QUEUES = ['cg_gdjango_orders', 'cg_gdjango_default'];

test('celery-gen shop/orders/tasks.py reads the routes and default queue from the Django settings, without a warning', () => {
  const text = generateLikeGolden(PROJECT, ['shop/orders/tasks.py']);
  assert.match(text, /route: \{ queue: 'cg_gdjango_orders' \},\n\s+defaultQueue: 'cg_gdjango_default',/);
});

describe('generated client → Python worker configured by Django settings', { skip }, () => {
  // No defaultQueue and no taskRoutes on the app: every queue comes from the generated specs.
  const peer = clientAndPythonWorker(QUEUES, { app: 'shop', cwd: PROJECT });
  let tasks: TaskClients;
  before(() => {
    tasks = createClient(peer.app);
  });

  test('CELERY_TASK_ROUTES (in settings/base.py, star-imported by the settings module) routes ship', async () => {
    assert.equal(await (await tasks.ship.delay(42)).get(GET), '42@cg_gdjango_orders');
  });

  test('CELERY_TASK_DEFAULT_QUEUE takes the task no route names', async () => {
    assert.equal(await (await tasks.audit.delay('checked')).get(GET), 'checked@cg_gdjango_default');
  });

  test('the Python worker found the tasks through Django (autodiscover_tasks over INSTALLED_APPS)', () => {
    assert.match(peer.worker.logs(), /\. shop\.orders\.tasks\.ship\b/);
    assert.match(peer.worker.logs(), /\. shop\.orders\.tasks\.audit\b/);
  });
});

describe('canvas built in TypeScript, routed as Python routes it (a route known only at run time)', { skip }, () => {
  const RUNTIME_QUEUE = 'cg_gdjango_runtime';
  // The same app with one more route, added when the process starts (shop/runtime_app.py).
  const peer = clientAndPythonWorker([...QUEUES, RUNTIME_QUEUE], { app: 'shop.runtime_app', cwd: PROJECT });

  test('a chain step without a queue of its own is routed by the Python worker that publishes it', async () => {
    // audit has no route in the source: a queue written into its signature (the source's
    // default queue) would beat the worker's run-time route.
    const result = await chain(signature(TASK_SPECS.ship, [7]), step(TASK_SPECS.audit, [])).applyAsync(peer.app);
    assert.equal(await result.get(GET), `7@cg_gdjango_orders@${RUNTIME_QUEUE}`);
  });

  test("the app's taskRoutes route a signature this client publishes, before the source's default queue", async () => {
    const routed = new Celery({ broker: BROKER_URL, backend: 'rpc://', logger: silentLogger, taskRoutes: { 'shop.orders.tasks.audit': RUNTIME_QUEUE } });
    try {
      assert.equal(await (await chain(signature(TASK_SPECS.audit, ['direct'])).applyAsync(routed)).get(GET), `direct@${RUNTIME_QUEUE}`);
    } finally {
      await routed.close();
    }
    // Without taskRoutes, the source's task_default_queue, as sendTask would.
    assert.equal(await (await chain(signature(TASK_SPECS.audit, ['plain'])).applyAsync(peer.app)).get(GET), 'plain@cg_gdjango_default');
  });
});
