/**
 * The package as npm publishes it: a fresh `npm run build` (the tarball ships dist/, not
 * the sources), then `npm pack` into `destination`. Shared by the tests that install it
 * (package-exports, lean-install).
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** Builds and packs the package; returns the tarball's absolute path. */
export function packTarball(destination: string): string {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', destination], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  return join(destination, name);
}
