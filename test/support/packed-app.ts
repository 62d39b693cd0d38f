/**
 * The package as a user installs it: `npm run build`, `npm pack`, the tarball unpacked
 * into a fresh app's node_modules with the package's own dependencies beside it (links to
 * ours, as npm would have installed them). Shared by the tests that check the published
 * package: exports, compile matrix, lint.
 */
import { execFileSync } from 'node:child_process';
import { packTarball, ROOT } from './pack.js';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { ROOT };

export interface PackedApp {
  /** The app folder: package.json (`"type": "module"`) and node_modules/celery-gen. */
  readonly dir: string;
  /** The packed .tgz, inside `dir`. */
  readonly tarball: string;
  remove(): void;
}

export function packIntoApp(): PackedApp {
  const dir = mkdtempSync(join(tmpdir(), 'celery-gen-app-'));
  const tarball = packTarball(dir);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'celery-gen'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'celery-gen'), '--strip-components=1']);
  for (const dep of readdirSync(join(ROOT, 'node_modules'))) {
    if (dep === 'celery-gen' || dep.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
  return { dir, tarball, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
