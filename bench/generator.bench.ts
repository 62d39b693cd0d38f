/**
 * Generator benchmark: the CLI on a generated 1,000-task module against Node starting,
 * loading tree-sitter and parsing the same file (the floor any tree-sitter generator
 * pays). Aim: at most 1.5x. Then growth: 4,000 tasks should cost about 4x the work
 * of 1,000 (the time above an empty Node start).
 *
 * Runs the built CLI (dist/, built first if stale) with plain node, as users run it.
 * Usage: npm run bench:generator
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Comparison, medianMs, report } from './harness.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/celery-gen.js');
// What bin/celery-gen.js runs once built.
const DIST_CLI = join(ROOT, 'dist/generator/cli.bundle.js');
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

function ensureBuilt(): void {
  const sources = join(ROOT, 'generator');
  const built = existsSync(DIST_CLI) ? statSync(DIST_CLI).mtimeMs : 0;
  const stale = readdirSync(sources).some((f) => f.endsWith('.ts') && statSync(join(sources, f)).mtimeMs > built);
  if (stale) {
    console.log('building dist/ (npm run build) ...');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (!existsSync(DIST_CLI)) throw new Error(`npm run build did not produce dist/ (exit ${r.status})`);
  }
}

async function main(): Promise<void> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'celery-gen-bench-'));
  try {
    const small = join(dir, 'tasks_1k.py');
    const large = join(dir, 'tasks_4k.py');
    writeFileSync(small, taskModule(1000));
    writeFileSync(large, taskModule(4000));
    const out = join(dir, 'tasks.ts');

    const empty = await medianMs(() => run(['-e', '']), RUNS);
    const ours1k = await medianMs(() => run([BIN, small, '-o', out]), RUNS);
    const parse1k = await medianMs(() => run(['-e', PARSE_ONLY, small]), RUNS);
    const ours4k = await medianMs(() => run([BIN, large, '-o', out]), RUNS);
    const parse4k = await medianMs(() => run(['-e', PARSE_ONLY, large]), RUNS);

    console.log(`node start (empty script): ${empty.toFixed(1)} ms`);
    console.log(`1,000 tasks: celery-gen ${ours1k.toFixed(1)} ms, parse only ${parse1k.toFixed(1)} ms`);
    console.log(`4,000 tasks: celery-gen ${ours4k.toFixed(1)} ms, parse only ${parse4k.toFixed(1)} ms`);
    const growthOurs = (ours4k - empty) / (ours1k - empty);
    const growthParse = (parse4k - empty) / (parse1k - empty);
    console.log(`work above node start grows ${growthOurs.toFixed(2)}x for 4x the tasks (parse alone: ${growthParse.toFixed(2)}x)`);

    const comparisons: Comparison[] = [
      { name: 'celery-gen 1k tasks vs node+tree-sitter parse', ours: ours1k, baseline: parse1k, unit: 'ms', better: 'lower', target: 1.5 },
      { name: 'celery-gen 4k tasks vs node+tree-sitter parse', ours: ours4k, baseline: parse4k, unit: 'ms', better: 'lower', target: 1.5 },
      // Linear growth: 4x the tasks, at most 4x (+25%) the work.
      { name: 'growth 1k -> 4k tasks (work above node start)', ours: growthOurs, baseline: 4, unit: 'x', better: 'lower', target: 1.25 },
    ];
    const ok = report(comparisons);
    process.exitCode = ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run only as a script, so taskModule() can be imported (e.g. by a test).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
