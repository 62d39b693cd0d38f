/**
 * Long run (issue 5): 100,000 tasks through one TS worker process, its resident memory
 * sampled after forced GC (--expose-gc) at 10k, 25k, 50k and 100k tasks. Target: RSS after
 * 100k within 10% of RSS after 10k. The test suite runs the same measurement
 * (test/reliability-memory.test.ts); this prints the figures.
 *
 *   node --import tsx bench/reliability-memory.bench.ts [tasks]
 */
import { measureWorkerMemory } from '../test/support/reliability-memory.js';

const total = Number(process.argv[2] ?? 100_000);
const result = await measureWorkerMemory(total);
for (const s of result.samples) console.log(`after ${String(s.tasks).padStart(7)} tasks: RSS ${(s.rss / 2 ** 20).toFixed(1)} MiB`);
const growth = result.growth;
console.log(`RSS growth from 10k to ${total}: ${(growth * 100).toFixed(1)}% (target <= 10%), ${Math.round(result.ms / 1000)} s, ${Math.round((total / result.ms) * 1000)} tasks/s`);
process.exit(growth <= 0.1 ? 0 : 1);
