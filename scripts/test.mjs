#!/usr/bin/env node
// Runs the test suite: node:test through tsx, every test file named explicitly (Node 20
// finds none from a bare directory), TAP output so CI can read the closing counts.
// Interop tests need RabbitMQ and Python Celery; without the peer they skip loudly,
// except in CI (CI=true) or with CELERY_GEN_REQUIRE_PEERS=1, where they fail.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const PYTHON = process.env.CELERY_GEN_PYTHON ?? '/usr/bin/python3';
const filter = process.argv.slice(2);
const files = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => `test/${f}`)
  .filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)));

const probe = spawnSync(PYTHON, ['-c', 'import celery, kombu; print(celery.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error(
    `# Python Celery is not importable by ${PYTHON}: interop tests cannot run.\n` +
      '# Install the peer with: apt-get install -y python3-celery python3-redis python3-msgpack python3-django',
  );
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=tap', ...files],
  { stdio: 'inherit', env: process.env },
);
process.exit(result.status ?? 1);
