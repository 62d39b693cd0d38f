/**
 * The generator's fixture cases: every directory under fixtures/ that holds a tasks.py
 * or an options.json (like ts-proto's per-case parameters.txt) naming its inputs.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES_DIR = join(ROOT_DIR, 'fixtures');

export interface FixtureOptions {
  /** Input files relative to the case directory. @default ['tasks.py'] */
  readonly inputs?: string[];
  readonly module?: string;
  readonly root?: string;
  /** The case demonstrates an error: generating must fail (model.json only). */
  readonly expectErrors?: boolean;
}

export interface FixtureCase {
  readonly name: string;
  readonly dir: string;
  readonly inputs: readonly string[];
  readonly readOptions: { module?: string; root?: string };
  readonly expectErrors: boolean;
}

export function fixtureCases(): FixtureCase[] {
  const out: FixtureCase[] = [];
  // Sorted: readdir order is not guaranteed.
  for (const name of readdirSync(FIXTURES_DIR).sort()) {
    const dir = join(FIXTURES_DIR, name);
    if (!statSync(dir).isDirectory()) continue;
    const optionsPath = join(dir, 'options.json');
    const hasOptions = existsSync(optionsPath);
    if (!hasOptions && !existsSync(join(dir, 'tasks.py'))) continue;
    const options = (hasOptions ? JSON.parse(readFileSync(optionsPath, 'utf8')) : {}) as FixtureOptions;
    out.push({
      name,
      dir,
      inputs: options.inputs ?? ['tasks.py'],
      readOptions: {
        ...(options.module === undefined ? {} : { module: options.module }),
        ...(options.root === undefined ? {} : { root: options.root }),
      },
      expectErrors: options.expectErrors === true,
    });
  }
  return out;
}
