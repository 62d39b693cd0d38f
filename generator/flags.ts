/**
 * The command-line flags as data: cli.ts builds the yargs parser and `--help` from this
 * table, so a flag's name, alias, description and default live in exactly one place.
 */

export type CommandName = 'generate' | 'inspect' | 'init';

export interface Flag {
  readonly name: string;
  readonly alias?: string;
  readonly type: 'string' | 'boolean';
  readonly description: string;
  readonly commands: readonly CommandName[];
  /** An output in a config file may set it under its long name (config.ts validates against this). */
  readonly perOutput?: boolean;
}

export const FLAGS: readonly Flag[] = [
  {
    name: 'out',
    alias: 'o',
    type: 'string',
    description: 'Write the module to this file (atomically: nothing is written on error). Without it, print to stdout. For init: the output the new config names.',
    commands: ['generate', 'init'],
  },
  {
    name: 'check',
    type: 'boolean',
    description: 'Write nothing; exit 1 with a unified diff when --out (or, without files, any output in the config) is stale or missing (for CI).',
    commands: ['generate'],
  },
  {
    name: 'config',
    type: 'string',
    description: 'The config file to use, instead of looking for celery-gen.config.{json,mjs,js} or a "celery-gen" key in package.json from here upward.',
    commands: ['generate'],
  },
  {
    name: 'watch',
    type: 'boolean',
    description: 'Regenerate whenever an input, or a module it imports, changes, appears or goes away; Ctrl-C stops.',
    commands: ['generate'],
  },
  {
    name: 'pattern',
    type: 'string',
    description: 'File name (wildcards * and ?) of the task modules init looks for. Default: tasks.py.',
    commands: ['init'],
  },
  {
    name: 'force',
    type: 'boolean',
    description: 'Let init overwrite an existing config.',
    commands: ['init'],
  },
  {
    name: 'json',
    type: 'boolean',
    description: 'Print the manifest as JSON (the schema in the README).',
    commands: ['inspect'],
  },
  {
    name: 'module',
    type: 'string',
    description: 'Module name of the single input, instead of deriving it from the __init__.py files above it.',
    commands: ['generate', 'inspect'],
    perOutput: true,
  },
  {
    name: 'app',
    alias: 'A',
    type: 'string',
    description: 'The module of the Celery app, as `celery -A` takes it (`proj` reads proj/__init__.py and proj/celery.py): read for its task_routes and task_default_queue when no input imports it (shared_task modules, Django apps).',
    commands: ['generate', 'inspect'],
    perOutput: true,
  },
  {
    name: 'root',
    type: 'string',
    description: 'Import root directory: module names are the input paths relative to it. In a config, defaults to the config\'s folder. For init: where to search and write the config.',
    commands: ['generate', 'inspect', 'init'],
    perOutput: true,
  },
];

export const EXAMPLES: readonly (readonly [command: string, description: string])[] = [
  ['celery-gen proj/tasks.py -o src/tasks.ts', 'generate src/tasks.ts from a Celery task module'],
  ['celery-gen proj/tasks.py -o src/tasks.ts --check', 'fail (exit 1, with a diff) when src/tasks.ts is out of date'],
  ['celery-gen billing/tasks.py mail/tasks.py -o src/tasks.ts', 'several modules: tasks are namespaced by module'],
  ['celery-gen inspect proj/tasks.py --json', 'print the task manifest as JSON'],
  ['celery-gen init', 'write celery-gen.config.json naming every tasks.py found here'],
  ['celery-gen', 'generate every output of the config file (docs/config.md)'],
  ['celery-gen --check', 'CI: exit 1 with one diff per stale output of the config'],
  ['celery-gen --watch', 'regenerate the config\'s outputs on every save'],
];

export const EPILOG =
  'Exit codes: 0 ok; 1 --check found an output stale or missing; 2 bad input (syntax error, unreadable file, unknown flag or command, bad or missing config).\n' +
  'Diagnostics read path:line:col: error: message (1-based lines, columns in characters).';
