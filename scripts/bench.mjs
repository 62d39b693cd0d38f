#!/usr/bin/env node
// Runs every benchmark under bench/ in turn (or those whose name contains an argument).
// Each prints its comparisons; the exit code is non-zero when any target was missed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filter = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)));
let status = 0;
for (const file of files) {
  console.log(`\n## ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`], { stdio: 'inherit' });
  status ||= run.status ?? 1;
}
process.exit(status);
