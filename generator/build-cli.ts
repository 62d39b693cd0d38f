/**
 * The build step `npm run build` runs after tsc: precompiles the templates
 * (templates.precompiled.cjs, see templates.ts) and bundles the CLI's own modules into
 * one CommonJS file, dist/generator/cli.bundle.cjs, which bin/celery-gen.js runs with a
 * V8 code cache. Node's ESM loader costs about a millisecond per module, and an ES
 * module cannot be run from a code cache on Node 20; one CommonJS file can. esbuild is a
 * dev dependency (tsx already runs on it).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { precompiledModule } from './precompile-templates.js';
import { PRECOMPILED_FILE, readTemplateSources } from './templates.js';

/** The bundle bin/celery-gen.js prefers; next to the modules it was built from, so their relative paths hold. */
export const CLI_BUNDLE = 'cli.bundle.cjs';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

if (process.argv[1] && here(import.meta.url) === process.argv[1]) {
  writeFileSync(here(`./${PRECOMPILED_FILE}`), precompiledModule(readTemplateSources()));
  await build({
    entryPoints: [here('./cli.js')],
    outfile: here(`./${CLI_BUNDLE}`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The sources locate files next to themselves through import.meta.url; in the bundle
    // that is the bundle's own URL (it sits beside the modules it was built from).
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // Bundled: our modules, yargs-parser and handlebars' runtime. tree-sitter (native) and
    // the full handlebars are loaded through createRequire, out of esbuild's sight; yargs,
    // needed only for help and errors, stays a separate load; so do lilconfig, tinyglobby
    // and chokidar, needed only by config-file commands (cli-config.ts, loaded lazily).
    // module-import.js stays a real ES module beside the bundle: the bundle's own import()
    // becomes require(), which cannot load a user's .mjs config (see module-import.ts).
    external: ['yargs', 'lilconfig', 'tinyglobby', 'chokidar', './module-import.js'],
    // Less source to read and hash on every run; names stay, for readable stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    // A script run from a code cache cannot import() on Node 20 (no dynamic-import
    // callback without --experimental-vm-modules), so import('yargs') becomes require():
    // yargs is ESM-only, and every Node it supports (^20.19) can require() an ES module.
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  });
}
