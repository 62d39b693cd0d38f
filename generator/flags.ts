/**
 * The command-line flags as data: cli.ts builds the yargs parser and `--help` from this
 * table, so a flag's name, alias, description and default live in exactly one place.
 */

export type CommandName = 'generate' | 'inspect';

export interface Flag {
  readonly name: string;
  readonly alias?: string;
  readonly type: 'string' | 'boolean';
  readonly description: string;
  readonly commands: readonly CommandName[];
}

export const FLAGS: readonly Flag[] = [
  {
    name: 'out',
    alias: 'o',
    type: 'string',
    description: 'Write the module to this file (atomically: nothing is written on error). Without it, print to stdout.',
    commands: ['generate'],
  },
  {
    name: 'check',
    type: 'boolean',
    description: 'Write nothing; exit 1 with a unified diff when --out is stale or missing (for CI).',
    commands: ['generate'],
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
  },
  {
    name: 'root',
    type: 'string',
    description: 'Import root directory: module names are the input paths relative to it.',
    commands: ['generate', 'inspect'],
  },
];

export const EXAMPLES: readonly (readonly [command: string, description: string])[] = [
  ['celery-gen proj/tasks.py -o src/tasks.ts', 'generate src/tasks.ts from a Celery task module'],
  ['celery-gen proj/tasks.py -o src/tasks.ts --check', 'fail (exit 1, with a diff) when src/tasks.ts is out of date'],
  ['celery-gen billing/tasks.py mail/tasks.py -o src/tasks.ts', 'several modules: tasks are namespaced by module'],
  ['celery-gen inspect proj/tasks.py --json', 'print the task manifest as JSON'],
];

export const EPILOG =
  'Exit codes: 0 ok; 1 --check found the output stale or missing; 2 bad input (syntax error, unreadable file, unknown flag or command).\n' +
  'Diagnostics read path:line:col: error: message (1-based lines, columns in characters).';
