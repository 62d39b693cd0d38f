/**
 * Fuzz test of the generator (issue 5): mutated fixture files (truncations, byte flips,
 * spliced tokens, random and binary bytes, invalid UTF-8, NUL bytes, huge lines, deep
 * nesting, shuffled lines, other line endings) must never make it throw or print a stack
 * trace. Each ends in valid output (a sample is type-checked) or in diagnostics that
 * each carry a severity and a position inside the file. 10,000 go through the
 * programmatic API in this process, a few hundred through the real CLI binary.
 * Seeded: a failure names the seed and index that reproduce it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Diagnostic, generate } from '../generator/index.js';
import { decodeSource } from '../generator/inputs.js';
import { ROOT_DIR } from './support/generator-fixtures.js';
import { type Mutant, fixtureSources, mutant, prng } from './support/generator-mutations.js';
import { describeDiagnostics, generatedModuleProject } from './support/ts-project.js';
import { inParallel } from './support/parallel.js';

const SEED = Number(process.env['CELERY_GEN_FUZZ_SEED'] ?? 20261128);
const API_RUNS = Number(process.env['CELERY_GEN_FUZZ_RUNS'] ?? 10_000);
const CLI_FILES = 300;
/** Outputs type-checked with ts-morph: enough variety, well under a minute. */
const COMPILE_SAMPLE = 24;
const BIN = join(ROOT_DIR, 'bin/celery-gen.js');

const work = mkdtempSync(join(tmpdir(), 'celery-gen-fuzz-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** What the file looks like to a reader: lines end at LF, CRLF or CR (as Python reads them), columns in code points. */
function lineLengths(bytes: Buffer): number[] {
  return new TextDecoder().decode(bytes).split(/\r\n|\r|\n/).map((l) => [...l].length);
}

/** Every problem with one diagnostic, or an empty list. */
function diagnosticProblems(d: Diagnostic, file: string, lengths: readonly number[]): string[] {
  const problems: string[] = [];
  if (d.file !== file) problems.push(`file ${d.file}`);
  if (d.severity !== 'error' && d.severity !== 'warning') problems.push(`severity ${String(d.severity)}`);
  for (const [line, column] of [[d.line, d.column], [d.endLine, d.endColumn]] as const) {
    if (!Number.isInteger(line) || line < 1 || line > lengths.length) problems.push(`line ${line} outside 1..${lengths.length}`);
    else if (!Number.isInteger(column) || column < 1 || column > lengths[line - 1]! + 1) problems.push(`column ${column} outside line ${line} (1..${lengths[line - 1]! + 1})`);
  }
  if (d.endLine < d.line || (d.endLine === d.line && d.endColumn < d.column)) problems.push('ends before it starts');
  // One diagnostic is one line of `path:line:col: error: message`, as editors read it.
  if (/[\r\n]/.test(d.message)) problems.push(`message spans lines: ${JSON.stringify(d.message.slice(0, 80))}`);
  if (d.message.trim() === '') problems.push('empty message');
  return problems;
}

/** The programmatic API on bytes, as generateFiles reads a file: decode, then generate. */
function generateBytes(bytes: Buffer): { text: string | null; diagnostics: readonly Diagnostic[] } {
  const decoded = decodeSource('t.py', bytes);
  if ('diagnostic' in decoded) return { text: null, diagnostics: [decoded.diagnostic] };
  return generate([{ file: 't.py', module: 't', text: decoded.text }], { sources: ['t.py'] });
}

function describeMutant(m: Mutant, index: number): string {
  return `seed ${SEED} index ${index} (${m.source}, ${m.kinds.join(' + ')}, ${m.bytes.length} bytes)`;
}

interface Run {
  readonly args: readonly string[];
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (status, signal) =>
      resolve({ args, status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Every stderr line is a diagnostic or one of the CLI's own one-line messages; never a stack frame or an error dump. */
function stderrProblems(r: Run): string[] {
  const problems: string[] = [];
  for (const line of r.stderr.split('\n')) {
    if (line === '') continue;
    if (/^celery-gen: internal error/.test(line)) problems.push(`internal error: ${line}`);
    else if (/^\s+at /.test(line)) problems.push(`stack frame: ${line}`);
    else if (!/^[^\n]+?:\d+:\d+: (error|warning): /.test(line) && !/^celery-gen: /.test(line)) problems.push(`not a diagnostic: ${JSON.stringify(line.slice(0, 120))}`);
  }
  return problems;
}

test(`${CLI_FILES} mutated fixtures through the CLI binary: exit 0 or 2, diagnostics only, no output file on errors`, async () => {
  const sources = fixtureSources();
  // Another seed than the API run, so the CLI sees other files.
  const rnd = prng(SEED + 1);
  const dir = join(work, 'cli');
  mkdirSync(dir);
  const files: string[] = [];
  for (let i = 0; i < CLI_FILES; i++) {
    const name = `m${String(i).padStart(3, '0')}.py`;
    writeFileSync(join(dir, name), mutant(sources, rnd).bytes);
    files.push(name);
  }
  const jobs: (() => Promise<{ run: Run; out: string | null }>)[] = [];
  // Ten files per invocation (each its own module, so a namespace each) for generate and inspect;
  // a quarter of the files also alone, where a clean file gives exit 0 and an output file.
  for (let b = 0; b < CLI_FILES / 10; b++) {
    const batch = files.slice(b * 10, b * 10 + 10);
    const out = `out-batch-${b}.ts`;
    jobs.push(async () => ({ run: await runCli([...batch, '-o', out], dir), out }));
    jobs.push(async () => ({ run: await runCli(['inspect', '--json', ...batch], dir), out: null }));
  }
  for (let i = 0; i < CLI_FILES; i += 4) {
    const out = `out-single-${i}.ts`;
    jobs.push(async () => ({ run: await runCli([files[i]!, '-o', out], dir), out }));
  }
  const results = await inParallel(jobs);
  const failures: string[] = [];
  let ok = 0;
  for (const { run, out } of results) {
    const label = `celery-gen ${run.args.join(' ')}`;
    if (run.signal !== null || (run.status !== 0 && run.status !== 2)) failures.push(`${label}: exit ${run.status} signal ${run.signal}\n${run.stderr}`);
    for (const p of stderrProblems(run)) failures.push(`${label}: ${p}`);
    if (out !== null) {
      const written = existsSync(join(dir, out));
      if (run.status === 2 && written) failures.push(`${label}: exit 2 but ${out} was written`);
      if (run.status === 0) {
        ok++;
        if (!written) failures.push(`${label}: exit 0 but no ${out}`);
        else if (!readFileSync(join(dir, out), 'utf8').startsWith('// Generated by celery-gen from ')) failures.push(`${label}: ${out} lacks the header`);
        if (/: error: /.test(run.stderr)) failures.push(`${label}: exit 0 with errors`);
      }
    } else {
      try {
        const manifest = JSON.parse(run.stdout) as { tasks?: unknown };
        if (!Array.isArray(manifest.tasks)) failures.push(`${label}: manifest without tasks`);
      } catch {
        failures.push(`${label}: stdout is not the JSON manifest: ${run.stdout.slice(0, 200)}`);
      }
    }
  }
  const leftovers = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  if (leftovers.length > 0) failures.push(`temporary files left behind: ${leftovers.join(', ')}`);
  assert.deepEqual(failures, [], failures.slice(0, 20).join('\n'));
  // Only some runs get through (how many depends on the seed): a handful proves the success path.
  assert.ok(ok >= 5, `only ${ok} invocations produced output: the mutations are too destructive to test success`);
});

// After the CLI test: spawning from a process that has parsed 10,000 files and loaded the
// TypeScript compiler costs far more per child (fork copies the page tables).
test(`${API_RUNS} mutated fixtures through the API: valid output or positioned diagnostics, never an exception`, () => {
  const sources = fixtureSources();
  assert.ok(sources.length >= 20, `only ${sources.length} fixture sources`);
  const unmutated = new Set(sources.map((s) => generateBytes(s.bytes).text));
  const rnd = prng(SEED);
  const failures: string[] = [];
  // A uniform sample of the mutated outputs (reservoir sampling): holding every output of
  // 10,000 runs, huge lines included, would cost gigabytes.
  const sampleRnd = prng(SEED ^ 0x5eed);
  const sample: { text: string; label: string }[] = [];
  let candidates = 0;
  const counts = { output: 0, diagnostics: 0, invalidEncoding: 0 };
  for (let i = 0; i < API_RUNS && failures.length < 40; i++) {
    const m = mutant(sources, rnd);
    let result: { text: string | null; diagnostics: readonly Diagnostic[] };
    try {
      result = generateBytes(m.bytes);
    } catch (err) {
      const path = join(work, `api-failure-${i}.py`);
      writeFileSync(path, m.bytes);
      failures.push(`${describeMutant(m, i)} threw ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n  input saved to ${path}`);
      continue;
    }
    const lengths = lineLengths(m.bytes);
    for (const d of result.diagnostics) {
      const problems = diagnosticProblems(d, 't.py', lengths);
      if (problems.length > 0) failures.push(`${describeMutant(m, i)}: diagnostic ${d.line}:${d.column} (${d.code}) ${problems.join('; ')}`);
    }
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (result.text === null) {
      counts.diagnostics++;
      if (errors.some((d) => d.code === 'invalid-encoding')) counts.invalidEncoding++;
      if (errors.length === 0) failures.push(`${describeMutant(m, i)}: no output and no error`);
    } else {
      counts.output++;
      if (errors.length > 0) failures.push(`${describeMutant(m, i)}: output despite errors`);
      if (!result.text.startsWith('// Generated by celery-gen from t.py.')) failures.push(`${describeMutant(m, i)}: output lacks the header`);
      if (!unmutated.has(result.text)) {
        candidates++;
        const slot = candidates <= COMPILE_SAMPLE ? candidates - 1 : Math.floor(sampleRnd() * candidates);
        if (slot < COMPILE_SAMPLE) sample[slot] = { text: result.text, label: describeMutant(m, i) };
      }
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  // The mutations must reach both outcomes, and the decoder's refusals, in quantity.
  assert.ok(counts.output > API_RUNS / 10, `only ${counts.output} mutants produced output`);
  assert.ok(counts.diagnostics > API_RUNS / 10, `only ${counts.diagnostics} mutants produced errors`);
  assert.ok(counts.invalidEncoding > API_RUNS / 50, `only ${counts.invalidEncoding} mutants hit the encoding check`);
  assert.ok(candidates >= 10 * COMPILE_SAMPLE, `only ${candidates} outputs differ from the unmutated fixtures'`);

  const project = generatedModuleProject();
  const files = sample.map((o, k) => ({ o, file: project.createSourceFile(join(ROOT_DIR, `test/support/.fuzz-output-${k}.ts`), o.text) }));
  const broken = files
    .map(({ o, file }) => ({ o, diagnostics: file.getPreEmitDiagnostics() }))
    .filter((x) => x.diagnostics.length > 0)
    .map((x) => `${x.o.label}:\n${describeDiagnostics(x.diagnostics)}`);
  assert.deepEqual(broken, [], broken.join('\n\n'));
});
