/**
 * Watch benchmark: the time from saving a task module to the output being written, in a
 * 50-module project, as the median over 20 saves. Aim: at most 150 ms (issue 12). The
 * real CLI runs `--watch` in a child process; a save is a plain write of the module, and
 * "written" is the CLI's `wrote` line, printed right after the output file's rename.
 * A cold `celery-gen` run over the same project is printed for comparison.
 *
 * Usage: npm run bench:watch
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Comparison, median, medianMs, percentile, report } from './harness.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/celery-gen.js');
const MODULES = 50;
const SAVES = Number(process.env['BENCH_RUNS'] ?? 20);
const BUDGET_MS = 150;

/** Module `i`: five tasks with docstrings, a TypedDict and defaults; `variant` changes one annotation. */
function moduleSource(i: number, variant: number): string {
  const lines = ['from typing import Optional, TypedDict', '', 'from celery import shared_task', '', '', `class Order${i}(TypedDict):`, '    sku: str', '    quantity: int', ''];
  for (let t = 0; t < 5; t++) {
    const first = t === 0 ? (variant % 2 === 0 ? 'int' : 'str') : 'int';
    lines.push('', '@shared_task', `def task_${t}(order_id: ${first}, items: list[Order${i}], note: Optional[str] = None) -> dict[str, int]:`, `    """Handles batch ${t} of app ${i} (variant ${variant})."""`, '    return {}', '');
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'celery-gen-watch-bench-'));
  try {
    for (let i = 0; i < MODULES; i++) {
      mkdirSync(join(dir, `app${i}`));
      writeFileSync(join(dir, `app${i}/tasks.py`), moduleSource(i, 0));
    }
    writeFileSync(join(dir, 'celery-gen.config.json'), JSON.stringify({ outputs: [{ output: 'src/tasks.ts', inputs: ['app*/tasks.py'] }] }));
    const cold = await medianMs(() => {
      const r = spawnSync(process.execPath, [BIN], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`celery-gen exited ${r.status}: ${r.stderr}`);
    }, 5);

    const child = spawn(process.execPath, [BIN, '--watch'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let waiter: { pattern: RegExp; from: number; resolve: () => void } | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (waiter && waiter.pattern.test(stderr.slice(waiter.from))) waiter.resolve();
    });
    const waitFor = (pattern: RegExp, from: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within 10 s; stderr:\n${stderr}`)), 10_000);
        waiter = { pattern, from, resolve: () => (clearTimeout(timer), (waiter = undefined), resolve()) };
        if (pattern.test(stderr.slice(from))) waiter.resolve();
      });
    try {
      await waitFor(/watching/, 0);
      const times: number[] = [];
      for (let s = 1; s <= SAVES + 2; s++) {
        const i = (s * 7) % MODULES;
        const from = stderr.length;
        const start = performance.now();
        writeFileSync(join(dir, `app${i}/tasks.py`), moduleSource(i, s));
        await waitFor(/wrote src\/tasks\.ts/, from);
        const ms = performance.now() - start;
        if (!readFileSync(join(dir, 'src/tasks.ts'), 'utf8').includes(`app ${i} (variant ${s})`)) throw new Error(`save ${s} is not in the output`);
        if (s > 2) times.push(ms); // the first two warm the JIT
        await new Promise((r) => setTimeout(r, 50)); // separate saves, as a person's are
      }
      const med = median(times);
      console.log(`${MODULES} modules, ${SAVES} saves: save -> output written median ${med.toFixed(1)} ms, p90 ${percentile(times, 90).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`);
      console.log(`cold celery-gen run over the same project (process start included): ${cold.toFixed(1)} ms`);
      const comparisons: Comparison[] = [{ name: 'watch: save -> output written (median) vs the 150 ms budget', ours: med, baseline: BUDGET_MS, unit: 'ms', better: 'lower', target: 1 }];
      process.exitCode = report(comparisons) ? 0 : 1;
    } finally {
      child.kill('SIGINT');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
