/**
 * The build step `npm run build` runs after tsc: precompiles the templates
 * (templates.precompiled.cjs, see templates.ts) and bundles the CLI's own modules into
 * one file, dist/generator/cli.bundle.js, which bin/celery-gen.js runs. Node's ESM
 * loader costs about a millisecond per module; one file instead of two dozen saves
 * some 20 ms of every run. esbuild is a dev dependency (tsx already runs on it).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { precompiledModule } from './precompile-templates.js';
import { PRECOMPILED_FILE, readTemplateSources } from './templates.js';

/** The bundle bin/celery-gen.js prefers; next to the modules it was built from, so their relative paths hold. */
export const CLI_BUNDLE = 'cli.bundle.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

if (process.argv[1] && here(import.meta.url) === process.argv[1]) {
  writeFileSync(here(`./${PRECOMPILED_FILE}`), precompiledModule(readTemplateSources()));
  await build({
    entryPoints: [here('./cli.js')],
    outfile: here(`./${CLI_BUNDLE}`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Bundled: our modules, yargs-parser and handlebars' runtime. tree-sitter (native) and
    // the full handlebars are loaded through createRequire, out of esbuild's sight; yargs,
    // needed only for help and errors, stays a separate load; so do lilconfig, tinyglobby
    // and chokidar, needed only by config-file commands (cli-config.ts, loaded lazily).
    external: ['yargs', 'lilconfig', 'tinyglobby', 'chokidar'],
    logLevel: 'warning',
  });
}
