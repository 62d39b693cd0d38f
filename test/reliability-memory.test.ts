/**
 * Long run (issue 5): 100,000 tasks through one TS worker process; its resident memory after
 * forced GC (--expose-gc) at 100k must be within 10% of the figure at 10k, so nothing is
 * kept per task (deliveries, results, timers, listeners). About 25 s here; the figures are
 * printed (and `npm run bench -- reliability-memory` prints them on their own).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerMissing } from './support/broker.js';
import { measureWorkerMemory } from './support/reliability-memory.js';

const TOTAL = 100_000;

test(`RSS after ${TOTAL} tasks is within 10% of RSS after 10,000`, { skip: await brokerMissing() }, async (t) => {
  const run = await measureWorkerMemory(TOTAL);
  const figures = run.samples.map((s) => `${s.tasks}: ${(s.rss / 2 ** 20).toFixed(1)} MiB`).join(', ');
  const report = `worker RSS after GC ${figures}; growth ${(run.growth * 100).toFixed(1)}% in ${Math.round(run.ms / 1000)} s`;
  t.diagnostic(report);
  assert.ok(run.growth <= 0.1, report);
});
