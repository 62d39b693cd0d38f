/**
 * The build step `npm run build` runs after tsc: precompiles the templates
 * (templates.precompiled.cjs, see templates.ts) and bundles the CLI's own modules into
 * one CommonJS file, dist/generator/cli.bundle.cjs, which bin/celery-gen.js runs with a
 * V8 code cache. Node's ESM loader costs about a millisecond per module, and an ES
 * module cannot be run from a code cache on Node 20; one CommonJS file can. esbuild is a
 * dev dependency (tsx already runs on it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Plugin, build } from 'esbuild';
import { precompiledModule } from './precompile-templates.js';
import { PRECOMPILED_FILE, readTemplateSources } from './templates.js';

/** The bundle bin/celery-gen.js prefers; next to the modules it was built from, so their relative paths hold. */
export const CLI_BUNDLE = 'cli.bundle.cjs';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** `text` with `from` replaced by `to`, or a build error naming the file (a dependency changed shape). */
function replaceOnce(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) throw new Error(`build-cli: ${file} no longer contains ${from}; update build-cli.ts`);
  return text.replace(from, to);
}

/**
 * Bundles what the CLI would otherwise find and compile on every run: tree-sitter's
 * JavaScript and node-gyp-build, which parse.ts loads with `nativeRequire` (a tenth of a
 * small generate), and the precompiled templates. Only JavaScript moves into the bundle;
 * the native binaries are still located at run time, in the installed packages, by
 * node-gyp-build as before.
 */
const bundleRuntimeLoads: Plugin = {
  name: 'bundle-runtime-loads',
  setup(b) {
    // parse.ts: its runtime requires become the bundle's own (still on first parse).
    b.onLoad({ filter: /[\\/]generator[\\/]parse\.js$/ }, ({ path }) => {
      let text = readFileSync(path, 'utf8');
      text = replaceOnce(text, "nativeRequire('tree-sitter')", "require('tree-sitter')", path);
      text = replaceOnce(text, "nativeRequire('node-gyp-build')", "require('node-gyp-build')", path);
      return { contents: text, loader: 'js' };
    });
    // templates.ts: the precompiled templates, written just before bundling, become part
    // of the bundle (and its code cache) instead of a file found and compiled every run.
    b.onLoad({ filter: /[\\/]generator[\\/]templates\.js$/ }, ({ path }) => {
      // (A plain `require`, which esbuild bundles; templates.ts's own is runtimeRequire.)
      const text = replaceOnce(readFileSync(path, 'utf8'), 'existsSync(path) ? runtimeRequire(path) : null', `require('./${PRECOMPILED_FILE}')`, path);
      return { contents: text, loader: 'js' };
    });
    // tree-sitter's index.js finds its binary next to itself; bundled, "itself" is the
    // installed package, which the bundle's runtime require resolves.
    b.onLoad({ filter: /[\\/]node_modules[\\/]tree-sitter[\\/]index\.js$/ }, ({ path }) => {
      // (The Bun branch before it names prebuilt binaries esbuild would try to bundle.)
      const text = replaceOnce(
        readFileSync(path, 'utf8'),
        'const binding = typeof process.versions.bun === "string" ?\n' +
          '    // Statically analyzable enough for `bun build --compile` to embed the tree-sitter.node napi addon\n' +
          '    require(`./prebuilds/${process.platform}-${process.arch}/tree-sitter.node`) :\n' +
          "    require('node-gyp-build')(__dirname);",
        "const binding = require('node-gyp-build')(require('node:path').dirname(__runtimeRequire.resolve('tree-sitter')));",
        path,
      );
      return { contents: text, loader: 'js' };
    });
  },
};

/** The first line of the bundle names the sources it was built from; see {@link bundleHeader}. */
export const SOURCES_HEADER = '// celery-gen CLI bundle of:';

/**
 * The bundle's first line: the repository's TypeScript sources of every module in it
 * (dist/generator/cli.js came from generator/cli.ts), so that bin/celery-gen.js in a
 * checkout can tell when any of them is newer than the bundle.
 */
export function bundleHeader(inputs: readonly string[]): string {
  const sources = inputs
    .filter((i) => i.startsWith('dist/') && i.endsWith('.js'))
    .map((i) => `${i.slice('dist/'.length, -'.js'.length)}.ts`)
    .sort();
  return `${SOURCES_HEADER} ${sources.join(' ')}`;
}

if (process.argv[1] && here(import.meta.url) === process.argv[1]) {
  writeFileSync(here(`./${PRECOMPILED_FILE}`), precompiledModule(readTemplateSources()));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const result = await build({
    absWorkingDir: root,
    write: false,
    metafile: true,
    entryPoints: [here('./cli.js')],
    outfile: here(`./${CLI_BUNDLE}`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The sources locate files next to themselves through import.meta.url; in the bundle
    // that is the bundle's own URL (it sits beside the modules it was built from).
    define: { 'import.meta.url': '__bundleUrl' },
    // __runtimeRequire: the require the bundle runs with, for resolving installed packages
    // (esbuild would read a plain require.resolve as a bundling request).
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href; const __runtimeRequire = require;" },
    // Bundled: our modules, handlebars' runtime, and the JavaScript of tree-sitter and
    // node-gyp-build (see bundleRuntimeLoads). The full handlebars is loaded through
    // createRequire, out of esbuild's sight; yargs,
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
    plugins: [bundleRuntimeLoads],
    logLevel: 'warning',
  });
  const [output] = result.outputFiles;
  writeFileSync(here(`./${CLI_BUNDLE}`), `${bundleHeader(Object.keys(result.metafile.inputs))}\n${output!.text}`);
}
