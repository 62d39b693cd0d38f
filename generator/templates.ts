/**
 * Loads and compiles the handlebars templates once. Templates only place slots; every
 * decision is made in emit.ts. `noEscape`: the output is TypeScript, not HTML.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { ModuleView } from './emit.js';

const PARTIALS = ['spec', 'handlers', 'clients', 'worker'] as const;

/**
 * `preventIndent`: handlebars would re-indent every line a standalone partial outputs
 * (a split and join per call, most of the render time for large modules); the
 * templates place each task's indentation themselves from its `indent` slot instead.
 */
const COMPILE_OPTIONS = { noEscape: true, assumeObjects: true, knownHelpersOnly: true, preventIndent: true } as const;

let compiled: ((view: ModuleView) => string) | undefined;

/** `templates/` sits at the package root: one level up from generator/, two from dist/generator/. */
function templatesDir(): string {
  for (const rel of ['../templates/', '../../templates/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}module.ts.hbs`)) return dir;
  }
  throw new Error('celery-gen: templates/ directory not found next to the generator');
}

export function renderModule(view: ModuleView): string {
  if (!compiled) {
    const dir = templatesDir();
    const hb = Handlebars.create();
    const read = (name: string) => readFileSync(`${dir}${name}.ts.hbs`, 'utf8');
    for (const p of PARTIALS) hb.registerPartial(p, hb.compile(read(p), COMPILE_OPTIONS));
    const main = hb.compile(read('module'), COMPILE_OPTIONS);
    compiled = (v) => main(v);
  }
  return compiled(view);
}
