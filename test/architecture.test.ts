// The runtime's layer rules (ARCHITECTURE.md), checked on the import statements themselves,
// parsed with the TypeScript compiler so multi-line imports, `export … from` and `import()`
// are all seen:
// - no cycle among value imports, anywhere in runtime/ and generator/ (a cycle makes module
//   evaluation order decide whether a class is defined yet);
// - amqplib is imported (types included) only under a path containing `amqp`, ioredis only
//   under one containing `redis`, so each broker stays one folder;
// - the core (app, client, worker) imports nothing from a broker folder (types included): it
//   reaches brokers and backends through the app/broker.ts interfaces, and only app/registry.ts
//   picks one, so a third broker is one folder plus one line there.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');

interface ImportEdge {
  from: string;
  /** The specifier as written: a package name or a relative path. */
  specifier: string;
  /** Repo-relative .ts path of a relative import; undefined for packages. */
  target: string | undefined;
  /** Whether the emitted JavaScript loads the module (verbatimModuleSyntax keeps `import { type A }` as `import {}`). */
  value: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** Every import edge of one file, classified value or type-only as tsc would emit it. */
export function importsOf(file: string): ImportEdge[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (literal: ts.Expression | undefined, value: boolean): void => {
    if (!literal || !ts.isStringLiteral(literal)) return;
    const specifier = literal.text;
    const target = specifier.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts')
      : undefined;
    edges.push({ from: file, specifier, target, value });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, !node.importClause?.isTypeOnly);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, !node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, !node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const FILES = [...tsFiles('runtime'), ...tsFiles('generator')];
const EDGES = FILES.flatMap(importsOf);

/** The first value-import cycle found by depth-first search, as a path that returns to its start; undefined when none. */
function findCycle(edges: ImportEdge[]): string[] | undefined {
  const next = new Map<string, string[]>();
  for (const e of edges) if (e.value && e.target) next.set(e.from, [...(next.get(e.from) ?? []), e.target]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (file: string): string[] | undefined => {
    state.set(file, 'open');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') return [...stack.slice(stack.indexOf(to)), to];
      if (!state.has(to)) {
        const found = walk(to);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of [...next.keys()].sort()) {
    if (state.has(file)) continue;
    const found = walk(file);
    if (found) return found;
  }
  return undefined;
}

test('the import parser sees value, type-only, re-export and dynamic imports', () => {
  const edges = importsOf('runtime/index.ts');
  assert.ok(edges.length > 5, 'runtime/index.ts re-exports the public API');
  assert.ok(edges.every((e) => e.target === undefined || e.target.startsWith('runtime/')));
  // The cycle finder itself, on a made-up graph: a→b value, b→a type-only is no cycle; b→a value is.
  const edge = (from: string, target: string, value: boolean): ImportEdge => ({ from, specifier: target, target, value });
  assert.equal(findCycle([edge('a', 'b', true), edge('b', 'a', false)]), undefined);
  assert.deepEqual(findCycle([edge('a', 'b', true), edge('b', 'c', true), edge('c', 'b', true)]), ['b', 'c', 'b']);
});

test('no value-import cycle in runtime/ or generator/', () => {
  const cycle = findCycle(EDGES);
  assert.equal(cycle, undefined, `value-import cycle: ${cycle?.join(' → ')}`);
});

test('amqplib is imported only under an amqp folder, ioredis only under a redis folder (types included)', () => {
  const misplaced = EDGES.filter(
    (e) =>
      (/^amqplib(\/|$)/.test(e.specifier) && !e.from.includes('amqp')) ||
      (/^ioredis(\/|$)/.test(e.specifier) && !e.from.includes('redis')),
  ).map((e) => `${e.from} imports ${e.specifier}`);
  assert.deepEqual(misplaced, []);
});

test('the core (app, client, worker) reaches brokers and backends only through app/registry.ts', () => {
  const core = /^runtime\/(app|client|worker)\//;
  const broker = /^runtime\/(amqp|redis)\//;
  const reaching = EDGES.filter((e) => core.test(e.from) && e.from !== 'runtime/app/registry.ts' && e.target && broker.test(e.target)).map(
    (e) => `${e.from} → ${e.target}${e.value ? '' : ' (type)'}`,
  );
  assert.deepEqual(reaching, []);
  // The rule bites: the registry itself does reach both broker folders.
  const chosen = EDGES.filter((e) => e.from === 'runtime/app/registry.ts' && e.value && e.target && broker.test(e.target)).map((e) => e.target);
  assert.ok(chosen.includes('runtime/amqp/adapter.ts') && chosen.includes('runtime/redis/adapter.ts'), `registry imports: ${chosen.join(', ')}`);
});
