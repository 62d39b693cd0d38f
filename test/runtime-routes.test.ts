/**
 * The task router (runtime/client/routes.ts) against Celery 5's own `celery.app.routes`
 * run by the real Python peer, and the publisher's merge of call options, decorator
 * options, the source route, the app's taskRoutes and the default queue.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { compileRoutes, globToRegExp, type TaskRoutes } from '../runtime/client/routes.js';
import { resolveRoute } from '../runtime/client/routes.js';
import type { TaskSpec } from '../runtime/protocol/spec.js';
import { PYTHON, peerMissing } from './support/python.js';

const GLOBS = ['proj.*', 'proj.*.add', 'a?c', 'x[ab]*', 'x[!ab]*', 'lit.[*', 'dots.*.*', '*', 'p(1)+*', 'x[]]*', 'x[!]]*'];
const NAMES = ['proj.add', 'proj.tasks.add', 'proj.tasks.addition', 'abc', 'abbc', 'xa1', 'xb', 'xc', 'lit.[z', 'lit.x', 'dots.a.b', 'dots.a', 'p(1)+q', 'p1q', 'x]y', 'xzy', '', 'proj.'];

test('globToRegExp matches exactly what fnmatch.translate + re.match matches (Python oracle)', { skip: peerMissing() }, () => {
  const script = `
import fnmatch, json, re, sys
globs, names = json.load(sys.stdin)
print(json.dumps([[bool(re.compile(fnmatch.translate(g)).match(n)) for n in names] for g in globs]))
`;
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify([GLOBS, NAMES]), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const expected = JSON.parse(r.stdout) as boolean[][];
  const actual = GLOBS.map((g) => NAMES.map((n) => globToRegExp(g).test(n)));
  assert.deepEqual(actual, expected);
});

test('MapRoute and the router list answer as Celery 5 does (Python oracle)', { skip: peerMissing() }, () => {
  const script = `
import json, re, sys
from celery.app.routes import MapRoute
names = json.load(sys.stdin)
routers = [
    MapRoute({'proj.add': 'exact', 'proj.*': {'queue': 'glob', 'routing_key': 'g'}, re.compile(r'proj\\.t'): 'regex', 'no?star': 'lit'}),
    MapRoute([(re.compile(r'other'), 'second'), ('proj.add', 'shadowed')]),
]
def route(name):
    for r in routers:
        v = r(name)
        if v is not None:
            return v
    return None
print(json.dumps([route(n) for n in names]))
`;
  const names = ['proj.add', 'proj.tasks.x', 'other.x', 'xother', 'no?star', 'noXstar', 'unrouted'];
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(names), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const routes: TaskRoutes = [
    new Map<string | RegExp, string | { queue: string; routing_key: string }>([
      ['proj.add', 'exact'],
      ['proj.*', { queue: 'glob', routing_key: 'g' }],
      [/proj\.t/, 'regex'],
      ['no?star', 'lit'],
    ]),
    [
      [/other/, 'second'],
      ['proj.add', 'shadowed'],
    ],
  ];
  const router = compileRoutes(routes);
  assert.deepEqual(
    names.map((n) => router.route(n)),
    JSON.parse(r.stdout),
  );
});

test('a router function, and a plain object as one router', () => {
  const router = compileRoutes([(name) => (name.endsWith('.slow') ? 'slow' : null), { 'a.*': { queue: 'a' } }]);
  assert.deepEqual(router.route('x.slow'), { queue: 'slow' });
  assert.deepEqual(router.route('a.b.slow'), { queue: 'slow' });
  assert.deepEqual(router.route('a.b'), { queue: 'a' });
  assert.equal(router.route('b'), null);
});

test('merge key by key: call > decorator > source route > app taskRoutes > source default queue > app default queue', () => {
  const spec = (options: TaskSpec['options'], extra: Partial<TaskSpec> = {}): TaskSpec => ({ name: 'proj.t', bind: false, params: [], options, ...extra });
  const app = compileRoutes({ 'proj.*': { queue: 'app_q', routing_key: 'app.key' } });
  // Nothing but the app's routes.
  assert.deepEqual(resolveRoute({}, spec({}), 'dflt', app), { queue: 'app_q', exchange: '', routingKey: 'app.key' });
  // A route read from the source ranks before the app's taskRoutes: the first router that answers wins.
  assert.deepEqual(resolveRoute({}, spec({}, { route: { queue: 'src_q' } }), 'dflt', app), { queue: 'src_q', exchange: '', routingKey: 'src_q' });
  // The decorator's queue wins; the route's routing_key is kept.
  assert.deepEqual(resolveRoute({}, spec({ queue: 'deco' }), 'dflt', app), { queue: 'deco', exchange: '', routingKey: 'app.key' });
  // The call wins over everything.
  assert.deepEqual(resolveRoute({ queue: 'call', routingKey: 'call.key' }, spec({ queue: 'deco' }), 'dflt', app), { queue: 'call', exchange: '', routingKey: 'call.key' });
  // No route: the source's task_default_queue, then the app's.
  assert.deepEqual(resolveRoute({}, spec({}, { defaultQueue: 'src_default' }), 'dflt'), { queue: 'src_default', exchange: '', routingKey: 'src_default' });
  assert.deepEqual(resolveRoute({}, spec({}), 'dflt'), { queue: 'dflt', exchange: '', routingKey: 'dflt' });
  // sendTask by name (no spec) still goes through taskRoutes.
  assert.deepEqual(resolveRoute({}, undefined, 'dflt', app, 'proj.x'), { queue: 'app_q', exchange: '', routingKey: 'app.key' });
});

test('canvas signatures carry what Python would apply too; the rest is routed by whoever publishes them', async () => {
  const { signature, signatureRoute } = await import('../runtime/client/canvas.js');
  const { TASK_SPECS } = await import('../fixtures/project/tasks.js');
  // In the signature: its own queue, else the decorator's queue=, else the source route.
  assert.equal(signature(TASK_SPECS.billing.charge, [1, []]).json.options['queue'], 'cg_gproject_urgent');
  assert.equal(signature(TASK_SPECS.billing.refund, [{ id: 'i', items: [], total: 1 }, 1]).json.options['queue'], 'cg_gproject_billing');
  assert.equal(signature(TASK_SPECS.mail.sendDigest, [[]], {}, { queue: 'call' }).json.options['queue'], 'call');
  // Not the source's task_default_queue: in the options it would beat the publisher's routes.
  const digest = signature(TASK_SPECS.mail.sendDigest, [[]]).json;
  assert.equal(digest.options['queue'], undefined);
  assert.equal(JSON.stringify(digest).includes('cg_gproject_default'), false);
  // This client publishes it as sendTask would: by its taskRoutes (routing key and all),
  // then by the source's default queue.
  const router = compileRoutes({ [TASK_SPECS.mail.sendDigest.name]: { queue: 'app_routed', routing_key: 'app.key' } });
  assert.deepEqual(signatureRoute(digest, 'dflt', router), { queue: 'app_routed', exchange: '', routingKey: 'app.key' });
  assert.deepEqual(signatureRoute(digest, 'dflt'), { queue: 'cg_gproject_default', exchange: '', routingKey: 'cg_gproject_default' });
  // A signature decoded from the wire (no spec) and its own options, key by key.
  const wire = { ...digest, options: { queue: 'own' } };
  assert.deepEqual(signatureRoute(wire, 'dflt', router, undefined), { queue: 'own', exchange: '', routingKey: 'app.key' });
});
