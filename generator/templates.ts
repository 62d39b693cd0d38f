/**
 * The handlebars templates, compiled once. Templates only place slots; every decision is
 * made in emit.ts. `noEscape`: the output is TypeScript, not HTML.
 *
 * Compiling the templates (handlebars' parser and code generator, about 40 ms with
 * loading the full library) would be a quarter of a generate run, so `npm run build`
 * precompiles them (precompile-templates.ts) into templates.precompiled.cjs next to the
 * built code, which needs only handlebars' small runtime. That file holds the template
 * sources it was made from: when they differ from templates/ (edited since the build), or
 * when running from the TypeScript sources, the templates are compiled here instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
// The runtime alone (no compiler): small, and bundled into the built CLI (about 10 ms of
// module resolution for its twenty CommonJS files otherwise).
import HandlebarsRuntime from 'handlebars/runtime.js';
import type { ModuleView } from './emit.js';

export const TEMPLATE_NAMES = ['module', 'spec', 'handlers', 'clients', 'worker'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
const PARTIALS = TEMPLATE_NAMES.filter((n) => n !== 'module');

/**
 * `preventIndent`: handlebars would re-indent every line a standalone partial outputs
 * (a split and join per call, most of the render time for large modules); the
 * templates place each task's indentation themselves from its `indent` slot instead.
 */
export const COMPILE_OPTIONS = { noEscape: true, assumeObjects: true, knownHelpersOnly: true, preventIndent: true, data: false } as const;

/** The file `npm run build` writes next to the built templates.js. */
export const PRECOMPILED_FILE = 'templates.precompiled.cjs';

/** What templates.precompiled.cjs exports. */
export interface Precompiled {
  readonly sources: Readonly<Record<TemplateName, string>>;
  readonly specs: Readonly<Record<TemplateName, unknown>>;
}

type Render = (view: ModuleView) => string;
type Template = (context: unknown) => string;
interface HandlebarsEnv {
  registerPartial(name: string, partial: Template): void;
  template(spec: unknown): Template;
  compile(source: string, options: typeof COMPILE_OPTIONS): Template;
  create(): HandlebarsEnv;
}

// createRequire: the full handlebars (only to compile edited templates) and the precompiled file load only when needed.
const runtimeRequire = createRequire(import.meta.url);
let compiled: Render | undefined;

/** `templates/` sits at the package root: one level up from generator/, two from dist/generator/. */
function templatesDir(): string {
  for (const rel of ['../templates/', '../../templates/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}module.ts.hbs`)) return dir;
  }
  throw new Error('celery-gen: templates/ directory not found next to the generator');
}

export function readTemplateSources(): Record<TemplateName, string> {
  const dir = templatesDir();
  return Object.fromEntries(TEMPLATE_NAMES.map((n) => [n, readFileSync(`${dir}${n}.ts.hbs`, 'utf8')])) as Record<TemplateName, string>;
}

/** A renderer from precompiled specs, or `null` when they were made from other template sources. */
export function fromPrecompiled(pre: Precompiled, sources: Readonly<Record<TemplateName, string>>): Render | null {
  if (TEMPLATE_NAMES.some((n) => pre.sources[n] !== sources[n])) return null;
  const hb = (HandlebarsRuntime as unknown as HandlebarsEnv).create();
  for (const p of PARTIALS) hb.registerPartial(p, hb.template(pre.specs[p]));
  const main = hb.template(pre.specs.module);
  return (view) => main(view);
}

/** A renderer compiled from the template sources now (the full handlebars library). */
export function fromSources(sources: Readonly<Record<TemplateName, string>>): Render {
  const hb = (runtimeRequire('handlebars') as HandlebarsEnv).create();
  for (const p of PARTIALS) hb.registerPartial(p, hb.compile(sources[p], COMPILE_OPTIONS));
  const main = hb.compile(sources.module, COMPILE_OPTIONS);
  return (view) => main(view);
}

function loadPrecompiled(): Precompiled | null {
  const path = fileURLToPath(new URL(`./${PRECOMPILED_FILE}`, import.meta.url));
  return existsSync(path) ? (runtimeRequire(path) as Precompiled) : null;
}

export function renderModule(view: ModuleView): string {
  if (!compiled) {
    const sources = readTemplateSources();
    const pre = loadPrecompiled();
    compiled = (pre && fromPrecompiled(pre, sources)) ?? fromSources(sources);
  }
  return compiled(view);
}
