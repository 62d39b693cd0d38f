/**
 * A whole project (fixtures/project: billing/mail/reports task modules, schemas and
 * constants in sibling modules, routes in proj/celery.py and proj/celeryconfig.py) goes
 * through the real CLI, and the generated client's calls are answered by a real Python
 * worker that consumes ONLY the routed queues (never `celery`): a task published to the
 * wrong queue would time out. Each task reports the routing key it was delivered with.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Celery, silentLogger } from 'celery-gen';
import { createClient, type TaskClients } from '../fixtures/project/tasks.js';
import { BROKER_URL } from './support/broker.js';
import { clientAndPythonWorker } from './support/client-peer.js';
import { ROOT_DIR } from './support/generator-fixtures.js';
import { generateLikeGolden } from './support/project-tree.js';
import { interopSkip } from './support/python.js';

const skip = await interopSkip();
const GET = { timeout: 15_000 };
const PROJECT = join(ROOT_DIR, 'fixtures/project');
/** The queues proj/constants.py names; unique to this test. */
const QUEUES = ['cg_gproject_default', 'cg_gproject_billing', 'cg_gproject_mail', 'cg_gproject_reports', 'cg_gproject_urgent'];

test('celery-gen proj/billing/tasks.py proj/mail/tasks.py proj/reports/tasks.py --root . needs nothing else', () => {
  // The golden the client below imports, without a warning: types, names, queues and routes all resolve.
  generateLikeGolden(PROJECT, ['proj/billing/tasks.py', 'proj/mail/tasks.py', 'proj/reports/tasks.py', '--root', '.']);
});

describe('generated project client → Python worker on the routed queues only', { skip }, () => {
  // No defaultQueue here: every queue comes from the generated specs.
  const peer = clientAndPythonWorker(QUEUES, { app: 'proj', cwd: PROJECT });
  let tasks: TaskClients;
  before(() => {
    tasks = createClient(peer.app);
  });

  test('a glob route (proj.billing.*) with an f-string task name', async () => {
    const r = await tasks.billing.refund.delay({ id: 'inv-1', items: [{ sku: 'a', qty: 2 }], total: 9.5 }, 2.5);
    assert.equal(await r.get(GET), 'inv-1:2.5@cg_gproject_billing');
  });

  test('the decorator queue= wins over a matching glob route', async () => {
    const r = await tasks.billing.charge.delay(7, [{ sku: 'a', qty: 2 }, { sku: 'b', qty: 3 }]);
    assert.equal(await r.get(GET), '7:5@cg_gproject_urgent');
  });

  test('an exact-name route, the name a class attribute reached through `import proj.constants`', async () => {
    const r = await tasks.mail.sendWelcome.delay('ann@example.com', 3);
    assert.equal(await r.get(GET), 'ann@example.com:3@cg_gproject_mail');
  });

  test('no route: task_default_queue from config_from_object', async () => {
    const r = await tasks.mail.sendDigest.delay(['a@example.com', 'b@example.com']);
    assert.equal(await r.get(GET), '2@cg_gproject_default');
  });

  test('a re.compile route and a queue= constant of another module', async () => {
    assert.equal(await (await tasks.reports.rebuildIndex.delay(true)).get(GET), 'True@cg_gproject_reports');
    const summary = await (await tasks.reports.summary.delay({ name: 'q1', rows: 4, note: 'x' })).get(GET);
    assert.deepEqual(summary, { name: 'Q1', rows: 5, note: null });
  });

  test('the app option taskRoutes routes what the source does not (before task_default_queue)', async () => {
    const routed = new Celery({ broker: BROKER_URL, backend: 'rpc://', logger: silentLogger, taskRoutes: { 'proj.mail.*': 'cg_gproject_urgent' } });
    try {
      const client = createClient(routed);
      // send_digest has no source route: taskRoutes answers. send_welcome's source route ranks first.
      assert.equal(await (await client.mail.sendDigest.delay(['x@example.com'])).get(GET), '1@cg_gproject_urgent');
      assert.equal(await (await client.mail.sendWelcome.delay('y@example.com', 1)).get(GET), 'y@example.com:1@cg_gproject_mail');
    } finally {
      await routed.close();
    }
  });

  test('the call options still win over everything', async () => {
    const r = await tasks.billing.refund.applyAsync([{ id: 'inv-2', items: [], total: 1 }, 1], {}, { queue: 'cg_gproject_urgent' });
    assert.equal(await r.get(GET), 'inv-2:1@cg_gproject_urgent');
  });
});
