// The package as a user installs it: `npm pack`, unpacked into an app's node_modules.
// `import { Celery } from 'celery-gen'` must resolve through package.json `exports` with
// types, work from CommonJS too, and load neither the generator nor tree-sitter: users
// ship the runtime, not the generator.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PackedApp, ROOT, packIntoApp } from './support/packed-app.js';

let packed: PackedApp | undefined;
let app = '';

before(() => {
  packed = packIntoApp();
  app = packed.dir;
});

after(() => packed?.remove());

/** Runs node in the app; a resolve hook fails the import of anything from the generator. */
function runInApp(file: string, source: string): string {
  writeFileSync(join(app, 'guard.mjs'), GUARD);
  writeFileSync(join(app, file), source);
  const run = spawnSync(process.execPath, ['--import', './guard.mjs', file], { cwd: app, encoding: 'utf8' });
  assert.equal(run.status, 0, `node ${file} failed:\n${run.stderr}`);
  return run.stdout;
}

const GUARD = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  const found = await next(specifier, context);
  if (/tree-sitter|handlebars|ts-morph|yargs|\\\\/dist\\\\/generator\\\\//.test(found.url)) throw new Error('runtime loaded ' + found.url);
  return found;
}\`));
`;

test('ESM: import { Celery } from "celery-gen" resolves to the built runtime without loading the generator', () => {
  const out = runInApp(
    'esm.mjs',
    `import { Celery, TaskError, defineTask, bindTask } from 'celery-gen';
     const app = new Celery({ broker: 'amqp://guest:secret@127.0.0.1:5672//' });
     console.log(typeof Celery, typeof TaskError, typeof defineTask, typeof bindTask, app instanceof Celery);`,
  );
  assert.equal(out.trim(), 'function function function function true');
});

test('CommonJS: require("celery-gen") gives the same runtime', () => {
  const out = runInApp(
    'cjs.cjs',
    `const { Celery, TaskError } = require('celery-gen');
     console.log(typeof Celery, new TaskError({ taskId: 't', state: 'FAILURE', excType: 'ValueError', excMessage: ['x'], excModule: 'builtins', traceback: null }) instanceof Error);`,
  );
  assert.equal(out.trim(), 'function true');
});

test('types: an app type-checks against the installed package under strict NodeNext', () => {
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, exactOptionalPropertyTypes: true, types: [], lib: ['ES2022', 'DOM'] },
      files: ['app.ts'],
    }),
  );
  writeFileSync(
    join(app, 'app.ts'),
    `import { Celery, type AsyncResult } from 'celery-gen';
     const app = new Celery({ broker: 'amqp://guest:guest@127.0.0.1:5672//', backend: 'rpc://' });
     export const sent: Promise<AsyncResult<unknown>> = app.sendTask('proj.tasks.add', [2, 3]);
     export const watched = sent.then((r) => r.onState((state) => console.log(state, r.states.length, r.ready)));
     // @ts-expect-error the broker URL is a string
     new Celery({ broker: 42 });
    `,
  );
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});

test('the guard itself: importing the generator in the app is caught', () => {
  writeFileSync(join(app, 'guard.mjs'), GUARD);
  writeFileSync(join(app, 'gen.mjs'), `import 'celery-gen/generator';`);
  const run = spawnSync(process.execPath, ['--import', './guard.mjs', 'gen.mjs'], { cwd: app, encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /runtime loaded .*(tree-sitter|dist\/generator)/);
});
