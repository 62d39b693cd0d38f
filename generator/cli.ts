/**
 * The `celery-gen` command: turns argv into typed options (cli-args.ts), runs generate or
 * inspect, and maps the outcome to an exit code. Nothing else happens here.
 */
import { HELP_SHOWN, type Options, UsageError, parseArgs } from './cli-args.js';
import { type Diagnostic, formatDiagnostic } from './diagnostics.js';
import { generateFiles, inspectFiles } from './index.js';
import { formatTable } from './inspect-table.js';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_STALE } from './exit-codes.js';
import { checkOutput, writeAtomically } from './output-file.js';
import { exitWhenFlushed, writeErr, writeOut } from './cli-output.js';

export { EXIT_BAD_INPUT, EXIT_OK, EXIT_STALE } from './exit-codes.js';

const BUG_URL = 'https://github.com/celery-gen/celery-gen/issues';

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) writeErr(`${formatDiagnostic(d)}\n`);
}

function runGenerate(o: Options): number {
  const result = generateFiles(o.files, {
    ...(o.out === undefined ? {} : { out: o.out }),
    ...(o.module === undefined ? {} : { module: o.module }),
    ...(o.root === undefined ? {} : { root: o.root }),
    ...(o.app === undefined ? {} : { app: o.app }),
  });
  printDiagnostics(result.diagnostics);
  if (result.text === null) return EXIT_BAD_INPUT;
  if (o.out === undefined) {
    writeOut(result.text);
    return EXIT_OK;
  }
  if (o.check) {
    const { state, diff } = checkOutput(o.out, result.text);
    if (state === 'current') return EXIT_OK;
    writeErr(`celery-gen: ${o.out} is ${state === 'missing' ? 'missing' : 'out of date'}; run celery-gen again without --check\n`);
    writeOut(diff);
    return EXIT_STALE;
  }
  try {
    writeAtomically(o.out, result.text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    writeErr(`celery-gen: error: cannot write ${o.out}: ${code}\n`);
    return EXIT_BAD_INPUT;
  }
  return EXIT_OK;
}

function runInspect(o: Options): number {
  const { manifest } = inspectFiles(o.files, {
    ...(o.module === undefined ? {} : { module: o.module }),
    ...(o.root === undefined ? {} : { root: o.root }),
    ...(o.app === undefined ? {} : { app: o.app }),
  });
  writeOut(o.json ? `${JSON.stringify(manifest, null, 2)}\n` : formatTable(manifest));
  printDiagnostics(manifest.diagnostics);
  // inspect is a report: a task whose name= cannot be resolved is listed with a null name
  // and its error, which fails generation but not the report. Other errors still exit 2.
  return manifest.diagnostics.some((d) => d.severity === 'error' && d.code !== 'non-literal-name') ? EXIT_BAD_INPUT : EXIT_OK;
}

/** Runs the CLI; returns the exit code. Never throws: internal errors become one line and exit 2. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  try {
    // @internal: lets the CLI tests prove that internal errors print one line, no stack.
    if (process.env['CELERY_GEN_TEST_INTERNAL_ERROR'] === '1') throw new Error('simulated internal error');
    const options = await parseArgs(argv);
    if (options === HELP_SHOWN) return EXIT_OK;
    if (options.command === 'init') return (await import('./cli-config.js')).runInit(options);
    // Without files, the config file says what to generate; watching needs the watcher.
    if (options.command === 'generate' && (options.files.length === 0 || options.watch)) {
      return await (await import('./cli-config.js')).runConfigCommand(options, generateFiles);
    }
    return options.command === 'inspect' ? runInspect(options) : runGenerate(options);
  } catch (err) {
    if (err instanceof UsageError) {
      writeErr(`celery-gen: error: ${err.message}\nRun celery-gen --help for usage.\n`);
      return EXIT_BAD_INPUT;
    }
    const message = err instanceof Error ? err.message : String(err);
    writeErr(`celery-gen: internal error: ${message.split('\n')[0]} (this is a bug; please report it with the input file at ${BUG_URL})\n`);
    if (process.env['CELERY_GEN_DEBUG'] === '1' && err instanceof Error) writeErr(`${err.stack}\n`);
    return EXIT_BAD_INPUT;
  }
}

// No top-level await: the built CLI is a CommonJS bundle (see build-cli.ts).
void main().then(exitWhenFlushed);
