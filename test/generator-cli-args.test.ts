/**
 * The CLI's two argv parsers agree: the strict fast path (everyday command lines,
 * no 40 ms yargs load) gives exactly what full yargs gives on every command line it
 * accepts, and it does accept the everyday ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Options, UsageError, parseArgsFast, parseArgsFull } from '../generator/cli-args.js';

type Outcome = { options: Options | 'help' } | { usageError: string };

async function outcome(parse: () => Promise<Options | 'help' | null> | Options | null): Promise<Outcome | null> {
  try {
    const options = await parse();
    return options === null ? null : { options };
  } catch (err) {
    if (err instanceof UsageError) return { usageError: err.message };
    throw err;
  }
}

test('everyday command lines take the fast path', () => {
  const cases: [string[], Options][] = [
    [['tasks.py'], { command: 'generate', files: ['tasks.py'], check: false, json: false }],
    [['proj/tasks.py', '-o', 'src/tasks.ts'], { command: 'generate', files: ['proj/tasks.py'], out: 'src/tasks.ts', check: false, json: false }],
    [['a.py', 'b.py', '--out', 'x.ts', '--check'], { command: 'generate', files: ['a.py', 'b.py'], out: 'x.ts', check: true, json: false }],
    [['inspect', '--json', 'tasks.py'], { command: 'inspect', files: ['tasks.py'], check: false, json: true }],
    [['--module', 'proj.jobs', 'tasks.py', '--root', 'src'], { command: 'generate', files: ['tasks.py'], module: 'proj.jobs', root: 'src', check: false, json: false }],
    [['1e3', '-o', '007'], { command: 'generate', files: ['1e3'], out: '007', check: false, json: false }],
    [['tasks.py', '-o', 'x.ts', '--watch', '--config', 'c.json'], { command: 'generate', files: ['tasks.py'], out: 'x.ts', check: false, json: false, config: 'c.json', watch: true }],
  ];
  for (const [argv, expected] of cases) assert.deepEqual(parseArgsFast(argv), expected, argv.join(' '));
  for (const argv of [['--help'], [], ['x.py', '--frob'], ['inspect', 'x.py', '-o', 'y.ts'], ['x.py', '--out=y.ts'], ['x.py', '--check', 'true'], ['x.py', '-o', 'a', '-o', 'b']]) {
    assert.equal(parseArgsFast(argv), null, `${argv.join(' ')} should go to full yargs`);
  }
});

test('wherever the fast path answers, full yargs gives the same options or the same usage error', async () => {
  const token = fc.oneof(
    { arbitrary: fc.constantFrom('a.py', 'b.py', 'proj/tasks.py', '1e3', '0x1', 'out.ts', 'm.x', 'src'), weight: 5 },
    { arbitrary: fc.constantFrom('-o', '--out', '--check', '--json', '--module', '--root', '--app', '-A', '--watch', '--config', 'inspect', 'init'), weight: 4 },
    { arbitrary: fc.constantFrom('true', 'false', '', '-', '--', '--no-check', '--check=false', '-o=x.ts', '--out=y.ts', '-x', '--frob', '-oz', '--files'), weight: 1 },
  );
  let compared = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(token, { maxLength: 7 }), async (argv) => {
      const fast = await outcome(() => parseArgsFast(argv));
      if (fast === null) return true;
      compared++;
      assert.deepEqual(fast, await outcome(() => parseArgsFull(argv)), argv.join(' '));
      return true;
    }),
    { numRuns: 1500, seed: 5 },
  );
  assert.ok(compared >= 100, `only ${compared} command lines compared`);
});
