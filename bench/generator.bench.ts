/**
 * Generator benchmark, the CLI as users run it: the package built, packed and installed
 * into a fresh app (test/support/packed-app.ts), run through its bin. A checkout's bin
 * also dates the sources the bundle was built from (about a millisecond, which an
 * installed package, having no sources, skips); that figure is printed too, without an
 * aim. Against what no generator can avoid:
 * - a typical 20-task module against `node -e 0` (Node starting): at most 1.5x;
 * - a 1,000-task module against Node loading tree-sitter and parsing the same file
 *   (the floor any tree-sitter generator pays): at most 4x;
 * - growth: 4,000 tasks cost at most 4x (+25%) the work of 1,000 above Node's start.
 * Commands run interleaved (one of each per round), so load on a shared machine hits
 * all of them alike; each figure is the median over BENCH_RUNS rounds (default 9).
 * Usage: npm run bench -- generator
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packIntoApp } from '../test/support/packed-app.js';
import { type Comparison, median, report } from './harness.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CHECKOUT_BIN = join(ROOT, 'bin/celery-gen.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 9);

/** A realistic module: varied signatures, defaults, options, docstrings, a few shared types. */
export function taskModule(count: number): string {
  const out = [
    '"""Generated benchmark module."""',
    'from typing import Optional, TypedDict',
    '',
    'from celery import Celery, shared_task',
    '',
    "app = Celery('bench')",
    '',
    '',
    'class Item(TypedDict):',
    '    sku: str',
    '    quantity: int',
    '',
  ];
  for (let i = 0; i < count; i++) {
    const options = i % 3 === 0 ? `(queue='q${i % 7}', max_retries=${i % 5})` : i % 3 === 1 ? '(bind=True)' : '';
    const decorator = i % 4 === 3 ? `@shared_task${options}` : `@app.task${options}`;
    const self = i % 3 === 1 ? 'self, ' : '';
    out.push(
      '',
      decorator,
      `def task_${i}(${self}order_id: int, items: list[Item], note: Optional[str] = None, *, retries: int = ${i % 4}) -> dict[str, int]:`,
      `    """Handles order batch ${i}.`,
      '',
      '    Args:',
      '        order_id: The order.',
      '        items: What to ship.',
      '    """',
      `    return {'order': order_id, 'count': len(items) + ${i}}`,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

const PARSE_ONLY = `
const Parser = require('tree-sitter');
const Python = require('tree-sitter-python');
const parser = new Parser();
parser.setLanguage(Python);
parser.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
`;

function run(args: readonly string[]): void {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

/** Median wall times of each command, run interleaved: one of each per round, after one warm-up round. */
function interleaved(commands: Record<string, readonly string[]>, rounds: number): Record<string, number> {
  const times: Record<string, number[]> = {};
  for (let r = -1; r < rounds; r++) {
    for (const [name, args] of Object.entries(commands)) {
      const start = performance.now();
      run(args);
      if (r >= 0) (times[name] ??= []).push(performance.now() - start);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, median(t)]));
}

async function main(): Promise<void> {
  const app = packIntoApp();
  const BIN = join(app.dir, 'node_modules/celery-gen/bin/celery-gen.js');
  const dir = mkdtempSync(join(tmpdir(), 'celery-gen-bench-'));
  try {
    const typical = join(dir, 'tasks_20.py');
    const small = join(dir, 'tasks_1k.py');
    const large = join(dir, 'tasks_4k.py');
    writeFileSync(typical, taskModule(20));
    writeFileSync(small, taskModule(1000));
    writeFileSync(large, taskModule(4000));
    const out = join(dir, 'tasks.ts');

    const t = interleaved(
      {
        empty: ['-e', '0'],
        ours20: [BIN, typical, '-o', out],
        checkout20: [CHECKOUT_BIN, typical, '-o', out],
        parse1k: ['-e', PARSE_ONLY, small],
        ours1k: [BIN, small, '-o', out],
        parse4k: ['-e', PARSE_ONLY, large],
        ours4k: [BIN, large, '-o', out],
      },
      RUNS,
    );
    const ms = (v: number | undefined) => `${v!.toFixed(1)} ms`;
    console.log(`node -e 0: ${ms(t['empty'])}`);
    console.log(`20 tasks: celery-gen ${ms(t['ours20'])} (from this checkout: ${ms(t['checkout20'])})`);
    console.log(`1,000 tasks: celery-gen ${ms(t['ours1k'])}, node + tree-sitter parse alone ${ms(t['parse1k'])}`);
    console.log(`4,000 tasks: celery-gen ${ms(t['ours4k'])}, node + tree-sitter parse alone ${ms(t['parse4k'])}`);
    const growthOurs = (t['ours4k']! - t['empty']!) / (t['ours1k']! - t['empty']!);
    const growthParse = (t['parse4k']! - t['empty']!) / (t['parse1k']! - t['empty']!);
    console.log(`work above node start grows ${growthOurs.toFixed(2)}x for 4x the tasks (parse alone: ${growthParse.toFixed(2)}x)`);

    const comparisons: Comparison[] = [
      { name: 'celery-gen 20 tasks vs node -e 0', ours: t['ours20']!, baseline: t['empty']!, unit: 'ms', better: 'lower', target: 1.5 },
      { name: 'celery-gen 1k tasks vs node + tree-sitter parse', ours: t['ours1k']!, baseline: t['parse1k']!, unit: 'ms', better: 'lower', target: 4 },
      // Linear growth: 4x the tasks, at most 4x (+25%) the work.
      { name: 'growth 1k -> 4k tasks (work above node start)', ours: growthOurs, baseline: 4, unit: 'x', better: 'lower', target: 1.25 },
    ];
    const ok = report(comparisons);
    process.exitCode = ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    app.remove();
  }
}

// Run only as a script, so taskModule() can be imported (e.g. by a test).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
