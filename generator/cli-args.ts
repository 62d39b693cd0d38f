/**
 * argv → typed CLI options. yargs builds the full parser (commands, strict checks,
 * `--help` with examples, its error messages) from the FLAGS table; loading it costs
 * about 40 ms, a quarter of a whole generate run. The everyday command lines (files,
 * `-o`, `--check`, `inspect --json`, `--module`, `--root`) are read by a strict fast path
 * from the same table, which takes only lines where every token is unambiguous. Anything
 * else, including every error and `--help`, goes to full yargs, and a test checks that
 * both agree on every command line the fast path accepts.
 */
import { createRequire } from 'node:module';
import { printedElsewhere } from './cli-output.js';
import { EPILOG, EXAMPLES, FLAGS, type CommandName, type Flag } from './flags.js';

export interface Options {
  readonly command: CommandName;
  readonly files: readonly string[];
  readonly out?: string;
  readonly check: boolean;
  readonly json: boolean;
  readonly module?: string;
  readonly root?: string;
  readonly app?: string;
  /** Set only when given, so everyday command lines keep their small shape. */
  readonly config?: string;
  readonly watch?: true;
  readonly force?: true;
  readonly pattern?: string;
}

/** A command line yargs rejects (unknown flag, missing file, ...); the message is yargs'. */
export class UsageError extends Error {}

/** What `--help` or `--version` printed: yargs has written it, nothing to run. */
export const HELP_SHOWN = 'help';

/** This package's version, from its own package.json (a self-reference: the package exports it). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('celery-gen/package.json') as { version: string }).version;
}

function toOptions(command: CommandName, files: readonly unknown[], args: Readonly<Record<string, unknown>>): Options {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out = str(args['out']);
  const module = str(args['module']);
  const root = str(args['root']);
  const app = str(args['app']);
  const config = str(args['config']);
  const pattern = str(args['pattern']);
  const options: Options = {
    command,
    files: files.map(String),
    check: args['check'] === true,
    json: args['json'] === true,
    ...(out === undefined ? {} : { out }),
    ...(module === undefined ? {} : { module }),
    ...(root === undefined ? {} : { root }),
    ...(app === undefined ? {} : { app }),
    ...(config === undefined ? {} : { config }),
    ...(args['watch'] === true ? { watch: true as const } : {}),
    ...(args['force'] === true ? { force: true as const } : {}),
    ...(pattern === undefined ? {} : { pattern }),
  };
  // Without files, the outputs come from the config file.
  if (options.files.length > 0 && options.check && options.out === undefined) throw new UsageError('--check needs -o/--out: the file to compare with');
  if (options.files.length > 0 && options.watch && options.out === undefined) throw new UsageError('--watch needs -o/--out: the file to keep current');
  if (options.files.length === 0 && command === 'generate' && options.out !== undefined) throw new UsageError('-o/--out needs input files; without them, the outputs come from the config file');
  if (options.check && options.watch) throw new UsageError('--check and --watch do not go together');
  return options;
}

/**
 * The fast path: only command lines made of input files and each known flag at most
 * once, in its plain spelling (`-o x`, `--out x`, `--check`), with no value that could
 * be read as something else. On such a line every token is unambiguous, so it is read
 * here directly, as yargs would read it (a test checks both agree on every line this
 * accepts). `null` means "ask full yargs".
 */
export function parseArgsFast(argv: readonly string[]): Options | null {
  const command: CommandName = argv[0] === 'inspect' ? 'inspect' : 'generate';
  const rest = command === 'inspect' ? argv.slice(1) : argv;
  const byToken = new Map<string, Flag>();
  for (const f of FLAGS) {
    if (!f.commands.includes(command)) continue;
    byToken.set(`--${f.name}`, f);
    if (f.alias) byToken.set(`-${f.alias}`, f);
  }
  // yargs picks the command from the first word left after flags take their values,
  // so `-o inspect inspect` is an inspect command: such lines go to full yargs.
  if (rest.includes('inspect') || argv.includes('init')) return null;
  const args: Record<string, string | boolean> = {};
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    const flag = byToken.get(token);
    if (flag) {
      if (Object.hasOwn(args, flag.name)) return null;
      if (flag.type === 'boolean') {
        args[flag.name] = true;
        continue;
      }
      const value = rest[++i];
      if (value === undefined || value === '' || value.startsWith('-')) return null;
      args[flag.name] = value;
      continue;
    }
    // Other flags, `--`, and words yargs reads as boolean values: full yargs decides.
    if (token === '' || token.startsWith('-') || token === 'true' || token === 'false') return null;
    files.push(token);
  }
  if (files.length === 0) return null;
  return toOptions(command, files, args);
}

/** Full yargs: every command line, `--help` included. Returns HELP_SHOWN after printing help. */
export async function parseArgsFull(argv: readonly string[]): Promise<Options | typeof HELP_SHOWN> {
  const { default: yargs } = await import('yargs');
  // yargs prints help and its messages itself.
  printedElsewhere();
  let command: CommandName = 'generate';
  const withFlags = (y: ReturnType<typeof yargs>, name: CommandName) => {
    for (const f of FLAGS.filter((f) => f.commands.includes(name))) {
      y.option(f.name, { type: f.type, describe: f.description, ...(f.alias ? { alias: f.alias } : {}) });
    }
    return y.positional('files', { type: 'string', array: true, describe: 'Python task modules, in output order' });
  };
  let helpShown = false;
  const parser = yargs([...argv])
    .scriptName('celery-gen')
    .command(
      '$0 [files..]',
      'Generate a typed TypeScript module from Celery task modules (without files: every output of the config file)',
      (y) => withFlags(y as ReturnType<typeof yargs>, 'generate'),
      () => {
        command = 'generate';
      },
    )
    .command(
      'inspect <files..>',
      'Print the tasks found (a table, or the JSON manifest with --json)',
      (y) => withFlags(y as ReturnType<typeof yargs>, 'inspect'),
      () => {
        command = 'inspect';
      },
    )
    .command(
      'init',
      'Write a config file naming every tasks.py (or --pattern) under the root, skipping virtualenvs, node_modules, site-packages, migrations and tests',
      (y) => {
        for (const f of FLAGS.filter((f) => f.commands.includes('init'))) {
          y.option(f.name, { type: f.type, describe: f.description, ...(f.alias ? { alias: f.alias } : {}) });
        }
        return y;
      },
      () => {
        command = 'init';
      },
    )
    .strict()
    .version('version', 'Show the version of celery-gen', packageVersion())
    .help()
    .alias('h', 'help')
    .epilogue(EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError(msg ?? err?.message ?? 'invalid arguments');
    });
  for (const [cmd, desc] of EXAMPLES) parser.example(cmd, desc);
  const args = parser.parseSync() as Record<string, unknown>;
  if (args['help'] === true || args['version'] === true) helpShown = true;
  if (helpShown) return HELP_SHOWN;
  return toOptions(command, (args['files'] as unknown[] | undefined) ?? [], args);
}

export async function parseArgs(argv: readonly string[]): Promise<Options | typeof HELP_SHOWN> {
  return parseArgsFast(argv) ?? parseArgsFull(argv);
}
