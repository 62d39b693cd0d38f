#!/usr/bin/env node
// The celery-gen command, kept tiny and CommonJS so it starts fast. Runs the built CLI
// (dist/generator/cli.bundle.cjs: one file, templates precompiled; `npm run build` makes
// it) when it exists and is not older than any TypeScript source it was built from (an
// installed package ships only dist/); otherwise runs the sources through tsx, so a
// checkout works without a build step.
//
// The bundle is compiled with a V8 code cache kept in the OS temp folder (keyed by the
// bundle's size and time and the Node version): compiling ~200 KB of JavaScript is a
// tenth of a small run. Node 22's module.enableCompileCache does this for every module;
// Node 20 has only vm.Script's cachedData, so this file does it for the one bundle.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist/generator/cli.bundle.cjs');
/** The bundle's first line up to its source list: build-cli.ts's SOURCES_HEADER (a test holds the two equal). */
const SOURCES_HEADER = '// celery-gen CLI bundle of: ';

/**
 * The bundle's text, or null when, in a checkout, one of the TypeScript
 * sources it was built from (listed on its first line by build-cli.ts) is newer or gone.
 * An installed package ships no sources, and one stat tells.
 */
function currentBundle(built) {
  const source = fs.readFileSync(dist, 'utf8');
  if (!fs.existsSync(path.join(root, 'generator'))) return source;
  const header = source.slice(0, source.indexOf('\n'));
  if (!header.startsWith(SOURCES_HEADER)) return null;
  for (const file of header.slice(SOURCES_HEADER.length).split(' ')) {
    const stat = fs.statSync(path.join(root, file), { throwIfNoEntry: false });
    if (!stat || stat.mtimeMs > built.mtimeMs) return null;
  }
  return source;
}

/** The code cache only saves time: a failure to use it is said on stderr, and the run goes on. */
function cacheNote(what, file, error) {
  process.stderr.write(`celery-gen: note: cannot ${what} the code cache ${file} (${error.message}); running without it, only slower\n`);
}

function runCached(stat, source) {
  const vm = require('node:vm');
  const { createRequire } = require('node:module');
  const os = require('node:os');
  // One cache per installed bundle and Node version; a string hash, not node:crypto (ms to load).
  const key = `${dist}\0${process.version}\0${stat.size}\0${Math.trunc(stat.mtimeMs)}`;
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  const cacheFile = path.join(os.tmpdir(), `celery-gen-${(hash >>> 0).toString(36)}-${process.version}.v8cache`);
  let cachedData;
  try {
    // Only a cache this user wrote: the temp folder may be shared with other users.
    const fd = fs.openSync(cacheFile, 'r');
    try {
      if (!process.getuid || fs.fstatSync(fd).uid === process.getuid()) cachedData = fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    // No cache yet is the first run's normal case; anything else is worth a line, and the
    // run goes on without the cache (only slower).
    if (error.code !== 'ENOENT') cacheNote('read', cacheFile, error);
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: dist, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(dist), module, dist, path.dirname(dist));
  if (cachedData === undefined || script.cachedDataRejected) {
    // Written at exit, so the functions this run compiled lazily are in the cache too.
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch (error) {
        fs.rmSync(tmp, { force: true });
        cacheNote('write', cacheFile, error);
      }
    });
  }
}

const built = fs.statSync(dist, { throwIfNoEntry: false });
const source = built && currentBundle(built);
if (source) {
  runCached(built, source);
} else {
  import('tsx/esm/api').then(({ register }) => {
    register();
    return import(require('node:url').pathToFileURL(path.join(root, 'generator/cli.ts')).href);
  });
}
