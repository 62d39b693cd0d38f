/**
 * The docs do not lie: every ```ts block in README.md and docs/*.md type-checks against
 * the package (as test/compile.test.ts checks the goldens: 'celery-gen' mapped to the
 * runtime's sources through tsconfig.json's paths), and every relative link resolves.
 * All blocks go into one TypeScript program, so the file stays well under a minute.
 * Directives (skip, tasks=, hidden prelude) are described in
 * test/support/docs-markdown.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ROOT_DIR } from './support/generator-fixtures.js';
import { type DocBlock, docFiles, extractRelativeLinks, extractTsBlocks, headingAnchors } from './support/docs-markdown.js';

const files = docFiles(ROOT_DIR);
const texts = new Map(files.map((f) => [f, readFileSync(join(ROOT_DIR, f), 'utf8')]));
const blocks = files.flatMap((f) => extractTsBlocks(f, texts.get(f)!));

interface Compiled {
  readonly block: DocBlock;
  readonly path: string;
  readonly preludeLines: number;
}

/** One program for every block (plus a canary that must fail), diagnostics by virtual path. */
function compileAll(): { compiled: Compiled[]; diagnostics: Map<string, ts.Diagnostic[]>; canary: string } {
  const config = ts.readConfigFile(join(ROOT_DIR, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT_DIR);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    // Snippets show one thing each, so their unused names are not errors; everything
    // else users may turn on (strict, exactOptionalPropertyTypes, verbatimModuleSyntax) stays.
    noUnusedLocals: false,
    noUnusedParameters: false,
    noEmit: true,
    moduleDetection: ts.ModuleDetectionKind.Force,
  };
  const virtual = new Map<string, string>();
  const compiled: Compiled[] = [];
  blocks.forEach((block, n) => {
    if (block.skip !== null) return;
    // Next to the golden it names, so './tasks.js' resolves to that tasks.ts.
    const dir = block.tasks === null ? join(ROOT_DIR, 'docs') : resolve(ROOT_DIR, block.tasks);
    const path = join(dir, `docs-block-${n}.ts`);
    const prelude = block.prelude.trim() === '' ? '' : `${block.prelude.replace(/\n+$/, '')}\n`;
    virtual.set(path, prelude + block.code + '\n');
    compiled.push({ block, path, preludeLines: prelude === '' ? 0 : prelude.split('\n').length - 1 });
  });
  const canary = join(ROOT_DIR, 'docs', 'docs-block-canary.ts');
  virtual.set(canary, "import { Celery } from 'celery-gen';\nnew Celery({ broker: 42 });\n");

  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) => {
    const text = virtual.get(resolve(name));
    return text === undefined ? getSourceFile(name, version, onError, create) : ts.createSourceFile(name, text, version, true);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => virtual.has(resolve(name)) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => virtual.get(resolve(name)) ?? readFile(name);

  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  const diagnostics = new Map<string, ts.Diagnostic[]>();
  for (const d of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) {
    diagnostics.set('<options>', [...(diagnostics.get('<options>') ?? []), d]);
  }
  for (const path of virtual.keys()) {
    const sf = program.getSourceFile(path);
    assert.ok(sf, `${path} is not in the program`);
    diagnostics.set(path, [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]);
  }
  return { compiled, diagnostics, canary };
}

/** `README.md:42: TS2345 ...`, pointing at the markdown line, or at the hidden prelude. */
function describe(c: Compiled, list: readonly ts.Diagnostic[]): string {
  return list
    .map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return `${c.block.file}:${c.block.line}: TS${d.code} ${text}`;
      const line = d.file.getLineAndCharacterOfPosition(d.start).line;
      const where = line < c.preludeLines ? `${c.block.file}:${c.block.line} (hidden prelude line ${line + 1})` : `${c.block.file}:${c.block.line + line - c.preludeLines}`;
      return `${where}: TS${d.code} ${text}`;
    })
    .join('\n');
}

test('the markdown reader finds directives, preludes, links and GitHub anchors', () => {
  const sample = [
    '## Retries: `ctx.retry()` & more',
    'See [a](docs/x.md#y), [web](https://example.com) and `[not](code.md)`.',
    '<!-- docs-test: tasks=fixtures/basic',
    "import { Celery } from 'celery-gen';",
    '-->',
    '```ts',
    'const x = 1;',
    '```',
    '<!-- docs-test: skip shows a shell session -->',
    '',
    '```typescript',
    '[inside](code.md)',
    '```',
    '```ts',
    'plain();',
    '```',
  ].join('\n');
  const [first, second, third] = extractTsBlocks('s.md', sample);
  assert.deepEqual(first, { file: 's.md', line: 7, code: 'const x = 1;', prelude: "import { Celery } from 'celery-gen';", skip: null, tasks: 'fixtures/basic' });
  assert.equal(second?.skip, 'shows a shell session');
  assert.deepEqual([third?.skip, third?.tasks, third?.prelude], [null, null, '']);
  assert.deepEqual(extractRelativeLinks('s.md', sample), [{ file: 's.md', line: 2, target: 'docs/x.md#y' }]);
  assert.ok(headingAnchors(sample).has('retries-ctxretry--more'));
});

test('the docs have code blocks, and every skip says why and every tasks= names a golden', () => {
  assert.ok(blocks.length >= 20, `only ${blocks.length} ts blocks found in ${files.join(', ')}`);
  for (const b of blocks) {
    assert.notEqual(b.skip, '(no reason given)', `${b.file}:${b.line}: docs-test: skip needs a reason`);
    if (b.tasks !== null) {
      assert.ok(existsSync(join(ROOT_DIR, b.tasks, 'tasks.ts')), `${b.file}:${b.line}: tasks=${b.tasks} has no tasks.ts`);
    }
  }
});

const { compiled, diagnostics, canary } = compileAll();

test('the compiler options are valid and the harness reports errors (a wrong block fails)', () => {
  assert.deepEqual(diagnostics.get('<options>') ?? [], []);
  const errors = diagnostics.get(canary) ?? [];
  assert.ok(errors.some((d) => d.code === 2322), `the canary compiled: ${errors.map((d) => d.code).join(', ')}`);
});

for (const c of compiled) {
  const name = `${c.block.file}:${c.block.line} compiles${c.block.tasks ? ` against ${c.block.tasks}/tasks.ts` : ''}`;
  test(name, () => {
    const list = diagnostics.get(c.path) ?? [];
    assert.equal(list.length, 0, describe(c, list));
  });
}

test('every relative link in the docs resolves, anchors included', () => {
  const broken: string[] = [];
  const count = files.reduce((n, f) => n + extractRelativeLinks(f, texts.get(f)!).length, 0);
  assert.ok(count >= 30, `only ${count} relative links found`);
  for (const file of files) {
    for (const link of extractRelativeLinks(file, texts.get(file)!)) {
      const [pathPart = '', anchor] = link.target.split('#', 2);
      const targetAbs = pathPart === '' ? join(ROOT_DIR, file) : resolve(ROOT_DIR, dirname(file), decodeURIComponent(pathPart));
      const target = relative(ROOT_DIR, targetAbs).split('\\').join('/');
      const where = `${link.file}:${link.line}: ${link.target}`;
      if (!existsSync(targetAbs)) {
        broken.push(`${where} (no such file: ${target})`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && statSync(targetAbs).isFile()) {
        const text = texts.get(target) ?? readFileSync(targetAbs, 'utf8');
        if (!headingAnchors(text).has(anchor)) broken.push(`${where} (no heading #${anchor} in ${target})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
