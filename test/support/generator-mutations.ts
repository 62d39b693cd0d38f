/**
 * Mutated Python sources for the generator fuzz test: fixture files cut, flipped,
 * spliced with Python-ish tokens, random bytes, invalid UTF-8, NUL bytes, huge lines
 * and deep nesting. Deterministic: everything is drawn from a seeded PRNG, so a
 * failing case is reproduced by its seed and index alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureCases } from './generator-fixtures.js';

/** mulberry32: small, fast, and good enough to spread mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The input files of the generator's fixture cases, as bytes: task modules written to
 * exercise every feature, and a set that changes only with the generator's own tests.
 */
export function fixtureSources(): { name: string; bytes: Buffer }[] {
  return fixtureCases().flatMap((c) => c.inputs.map((input) => ({ name: `${c.name}/${input}`, bytes: readFileSync(join(c.dir, input)) })));
}

/** Tokens that move a parser into interesting states when spliced in anywhere. */
const SNIPPETS = [
  '(', ')', '[', ']', '{', '}', ':', ',', '=', '->', '*', '**', '/', '|', '.', '@', '\\', '\\\n', '#', ';',
  "'", '"', '"""', "'''", 'f"', "b'", "r'", 'u"', '\n', '\r', '\r\n', '    ', '\t', '\f', '\v', '\u2028', '\u00a0',
  'def ', 'async ', 'class ', 'lambda', 'None', 'True', 'not ', 'yield', 'await ', 'if ', 'else', 'return ',
  '@app.task', '@app.task(', '@shared_task(bind=True)\n', '@app.task(name=', 'def t(self, *, x: int = 1) -> str:\n    ...\n',
  'from celery import shared_task as st\n', 'import typing as t\n', 'class C(app.Task):\n    def run(self, x):\n        pass\n',
  'app.register_task(', 'TYPE_CHECKING', 'Optional[', 'Literal[', 'Annotated[', 'dict[str, ', "'list[int]'", '"Optional[\'X\']"',
  'tuple[()]', 'tuple[int, ...]', 'NotRequired[', 'x: int', '= field(default=None)', 'Enum', 'TypedDict', 'NamedTuple',
  '😀', 'Ünbekannt', 'é', '\u0301', '𝔘', '\ud800', '\udfff', '\ufeff', '\u200d', '__proto__', 'constructor', 'default',
  '0x', '1e999', '1_000_000_000_000_000_000', '-', '...', '"\\N{DASH}"', "'\\x'", "'\\u12'", '"""\n    Args:\n        x: X.\n    """',
];

/** Byte sequences no UTF-8 decoder accepts. */
const INVALID_UTF8 = [[0xff], [0xfe], [0x80], [0xc3], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98]];

export type MutationKind =
  | 'truncate' | 'flip' | 'snippet' | 'random-bytes' | 'binary-junk' | 'invalid-utf8' | 'nul'
  | 'huge-line' | 'deep-nesting' | 'lines' | 'line-endings';

const KINDS: readonly MutationKind[] = [
  'truncate', 'truncate', 'flip', 'flip', 'snippet', 'snippet', 'snippet', 'random-bytes', 'binary-junk',
  'invalid-utf8', 'nul', 'huge-line', 'deep-nesting', 'deep-nesting', 'lines', 'lines', 'line-endings',
];

export interface Mutant {
  readonly source: string;
  readonly kinds: readonly MutationKind[];
  readonly bytes: Buffer;
}

function splice(b: Buffer, at: number, remove: number, insert: Uint8Array | string): Buffer {
  const ins = typeof insert === 'string' ? Buffer.from(insert, 'utf8') : Buffer.from(insert);
  return Buffer.concat([b.subarray(0, at), ins, b.subarray(Math.min(b.length, at + remove))]);
}

/** A position at the start of a line, so inserted statements land at statement boundaries some of the time. */
function lineStart(b: Buffer, rnd: () => number): number {
  const at = Math.floor(rnd() * (b.length + 1));
  const nl = b.lastIndexOf(10, at - 1);
  return nl + 1;
}

function deepNesting(rnd: () => number): string {
  const depth = [20, 100, 400, 1500, 5000][Math.floor(rnd() * 5)]!;
  switch (Math.floor(rnd() * 5)) {
    case 0:
      return `${'('.repeat(depth)}1${')'.repeat(depth)}`;
    case 1:
      return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    case 2:
      return `x: ${'Optional['.repeat(depth)}int${']'.repeat(depth)}`;
    case 3:
      return `@app.task\ndef deep(x: ${'list['.repeat(depth)}int${']'.repeat(depth)} = ${'['.repeat(depth)}${']'.repeat(depth)}) -> '${'dict[str, '.repeat(depth)}int${']'.repeat(depth)}':\n    pass\n`;
    default:
      // Unbalanced: opens that never close.
      return '('.repeat(depth);
  }
}

function hugeLine(rnd: () => number): string {
  const n = [5_000, 50_000, 200_000][Math.floor(rnd() * 3)]!;
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return `x = '${'a'.repeat(n)}'\n`;
    case 1:
      return `@app.task(name='${'n'.repeat(n)}')\ndef huge() -> int:\n    return 1\n`;
    case 2:
      return `@app.task\ndef wide(${Array.from({ length: Math.min(n / 10, 5000) }, (_, i) => `p${i}: int`).join(', ')}) -> None:\n    pass\n`;
    default:
      return '#'.repeat(n);
  }
}

function mutateOnce(b: Buffer, kind: MutationKind, rnd: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const at = Math.floor(rnd() * (b.length + 1));
  switch (kind) {
    case 'truncate':
      return b.subarray(0, at);
    case 'flip': {
      const out = Buffer.from(b);
      const n = 1 + Math.floor(rnd() * 4);
      for (let i = 0; i < n && out.length > 0; i++) {
        const j = Math.floor(rnd() * out.length);
        out[j] = out[j]! ^ (1 + Math.floor(rnd() * 255));
      }
      return out;
    }
    case 'snippet':
      return splice(b, rnd() < 0.5 ? at : lineStart(b, rnd), rnd() < 0.2 ? Math.floor(rnd() * 8) : 0, pick(SNIPPETS));
    case 'random-bytes':
      return splice(b, at, 0, Uint8Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256)));
    case 'binary-junk': {
      const junk = Uint8Array.from({ length: 1 + Math.floor(rnd() * 512) }, () => Math.floor(rnd() * 256));
      return rnd() < 0.2 ? Buffer.from(junk) : splice(b, at, Math.floor(rnd() * 64), junk);
    }
    case 'invalid-utf8':
      return splice(b, at, 0, Uint8Array.from(pick(INVALID_UTF8)));
    case 'nul':
      return splice(b, at, 0, Uint8Array.of(0));
    case 'huge-line':
      return splice(b, lineStart(b, rnd), 0, hugeLine(rnd));
    case 'deep-nesting':
      return splice(b, rnd() < 0.5 ? lineStart(b, rnd) : at, 0, deepNesting(rnd));
    case 'lines': {
      const lines = b.toString('latin1').split('\n');
      const i = Math.floor(rnd() * lines.length);
      const j = Math.floor(rnd() * lines.length);
      switch (Math.floor(rnd() * 4)) {
        case 0:
          lines.splice(i, 1);
          break;
        case 1:
          lines.splice(i, 0, lines[j]!);
          break;
        case 2:
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
          break;
        default:
          lines[i] = lines[i]!.replace(/^\s+/, rnd() < 0.5 ? '' : ' '.repeat(1 + Math.floor(rnd() * 12)));
      }
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    case 'line-endings': {
      const text = b.toString('latin1');
      return Buffer.from(rnd() < 0.5 ? text.replace(/\n/g, '\r\n') : text.replace(/\n/g, '\r'), 'latin1');
    }
  }
}

/** The `index`th mutant of a run: a fixture with one to three mutations applied. */
export function mutant(sources: readonly { name: string; bytes: Buffer }[], rnd: () => number): Mutant {
  const source = sources[Math.floor(rnd() * sources.length)]!;
  const kinds: MutationKind[] = [];
  let bytes = source.bytes;
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n; i++) {
    const kind = KINDS[Math.floor(rnd() * KINDS.length)]!;
    kinds.push(kind);
    bytes = mutateOnce(bytes, kind, rnd);
  }
  return { source: source.name, kinds, bytes };
}
