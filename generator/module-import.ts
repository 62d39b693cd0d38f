/**
 * `import()` of a user's ES module (a `celery-gen.config.mjs`), kept out of the CLI
 * bundle on purpose: bin/celery-gen.js runs the bundle from a V8 code cache, and on
 * Node 20 a script run that way has no dynamic-import callback, so the bundle turns its
 * own `import()` calls into `require()` — which cannot load a file: URL or an .mjs
 * config. This module stays a real ES module next to the bundle (build-cli.ts marks it
 * external), and an ES module's `import()` always works.
 */
export async function importModule(url: string): Promise<unknown> {
  return await import(url);
}
