#!/usr/bin/env node
// The celery-gen command. Runs the built CLI (dist/generator/cli.bundle.js: one file,
// templates precompiled; `npm run build` makes it) when it exists and is not older than
// the TypeScript sources next to it (an installed package ships only dist/); otherwise
// runs the sources through tsx, so a checkout works without a build step.
import { existsSync, readdirSync, statSync } from 'node:fs';

const dist = new URL('../dist/generator/cli.bundle.js', import.meta.url);
const sources = new URL('../generator/', import.meta.url);

function distIsCurrent() {
  if (!existsSync(dist)) return false;
  if (!existsSync(sources)) return true;
  const built = statSync(dist).mtimeMs;
  return readdirSync(sources).every((f) => !f.endsWith('.ts') || statSync(new URL(f, sources)).mtimeMs <= built);
}

if (distIsCurrent()) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('cli.ts', sources).href);
}
