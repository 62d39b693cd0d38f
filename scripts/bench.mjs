#!/usr/bin/env node
// Runs every benchmark under bench/ (or those whose name contains an argument) BENCH_RUNS
// times (default 3), each run in a fresh process, and reports every run's comparisons and
// then, per comparison, the median of the runs' ratios: one run on a shared machine can be
// off by a lot. Each run line carries the machine's load average, so a figure taken under
// load can be told apart. The exit code is non-zero when a median misses its target.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);

// What harness.ts's report() prints for one comparison.
const LINE = /^(.+): ours ([\d.]+) (\S+), baseline ([\d.]+) \S+, ratio ([\d.]+)x \(aim (>=|<=) ([\d.]+)x\)/;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');

const filter = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)));
let status = 0;
for (const file of files) {
  /** comparison name → its figures, one per run */
  const seen = new Map();
  let ranWithoutComparisons = false;
  for (let run = 1; run <= RUNS; run++) {
    console.log(`\n## ${file} run ${run}/${RUNS} (load average before: ${load()})`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`], { stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8' });
    process.stdout.write(child.stdout ?? '');
    if (child.status !== 0 && child.status !== 1) status ||= child.status ?? 1; // 1 is "a target missed": judged on the medians below
    let found = false;
    for (const line of (child.stdout ?? '').split('\n')) {
      const m = LINE.exec(line);
      if (!m) continue;
      found = true;
      const [, name, ours, unit, baseline, ratio, better, target] = m;
      if (!seen.has(name)) seen.set(name, { unit, better, target: Number(target), ours: [], baseline: [], ratio: [] });
      const entry = seen.get(name);
      entry.ours.push(Number(ours));
      entry.baseline.push(Number(baseline));
      entry.ratio.push(Number(ratio));
    }
    if (!found) ranWithoutComparisons = true;
    if (!found && child.status !== 0) status ||= child.status ?? 1;
  }
  if (seen.size === 0) continue;
  console.log(`\n## ${file}: median of ${RUNS} run(s) (load average after: ${load()})`);
  for (const [name, e] of seen) {
    const ratio = median(e.ratio);
    const met = e.better === '>=' ? ratio >= e.target : ratio <= e.target;
    if (!met) status ||= 1;
    console.log(
      `${name}: ours ${median(e.ours).toFixed(2)} ${e.unit}, baseline ${median(e.baseline).toFixed(2)} ${e.unit}, ` +
        `ratio ${ratio.toFixed(2)}x (runs: ${e.ratio.map((r) => r.toFixed(2)).join(', ')}) (aim ${e.better} ${e.target}x) ${met ? 'ok' : 'MISSED'}`,
    );
  }
  if (ranWithoutComparisons) console.log('(some runs printed no comparison: see their output above)');
}
process.exit(status);
