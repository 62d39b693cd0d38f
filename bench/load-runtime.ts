/**
 * Loads runtime modules as they ship: compiled by tsc (tsconfig.build.json) into
 * node_modules/.cache, where tsx leaves them alone. Run from the TS sources through tsx
 * instead (BENCH_SOURCE=1), every closure pays for esbuild's keepNames wrapper: encoding
 * alone costs ~3x more, which no user of the package pays. Both benchmarks of the runtime
 * load it here, so ours and the baselines' helpers (envelope decoding) run the same code.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SOURCE = process.env.BENCH_SOURCE === '1';
const OUT = fileURLToPath(new URL('../node_modules/.cache/celery-gen-bench/', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the modules come from, for the report. */
export const RUNTIME_FROM = SOURCE ? 'TS sources via tsx' : 'compiled by tsc';

let compiled: Promise<void> | undefined;

function compile(): Promise<void> {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', OUT, '--declaration', 'false', '--sourceMap', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (tsc.error) return Promise.reject(tsc.error);
  // A failed build would leave the previous one in place: measuring stale code is worse than stopping.
  if (tsc.status !== 0) return Promise.reject(new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`));
  writeFileSync(`${OUT}package.json`, '{"type": "module"}\n');
  return Promise.resolve();
}

/** Imports `path` (from the repository root, e.g. 'runtime/index.js') as shipped; compiles once per process. */
export async function shipped<T>(path: string): Promise<T> {
  if (SOURCE) return (await import(new URL(`../${path}`, import.meta.url).href)) as T;
  compiled ??= compile();
  await compiled;
  return (await import(`${OUT}${path}`)) as T;
}
