/**
 * Reads the project's markdown the way the docs test needs it: the ```ts blocks with the
 * `<!-- docs-test: ... -->` directive written right before each, and the relative links.
 * Pure text work, so the test's own logic can be checked without a compiler.
 *
 * Directive forms (an HTML comment, so GitHub shows none of it):
 *   <!-- docs-test: skip <reason> -->        not compiled; the reason is required
 *   <!-- docs-test: tasks=fixtures/basic --> './tasks.js' is that folder's golden tasks.ts
 * Lines after the first line of the comment are a hidden prelude compiled before the block
 * (imports and the `app` a fragment assumes), like rustdoc's hidden `#` lines.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DocBlock {
  /** Path relative to the repository root. */
  readonly file: string;
  /** 1-based line of the block's first code line. */
  readonly line: number;
  readonly code: string;
  readonly prelude: string;
  readonly skip: string | null;
  /** Folder, relative to the root, whose tasks.ts './tasks.js' means; null when unset. */
  readonly tasks: string | null;
}

export interface DocLink {
  readonly file: string;
  readonly line: number;
  /** The target as written, e.g. `docs/runtime.md#retries`. */
  readonly target: string;
}

/** README.md and every docs/*.md, relative to the root, in a stable order. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const DIRECTIVE = /<!--\s*docs-test:([\s\S]*?)-->\s*$/;

/** Every ```ts / ```typescript block of one markdown file, with its directive. */
export function extractTsBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++;
    const lang = open[3]!.toLowerCase();
    if (lang === 'ts' || lang === 'typescript') {
      const indent = open[1]!.length;
      const code = lines
        .slice(i + 1, end)
        .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
        .join('\n');
      blocks.push({ file, line: i + 2, code, ...directiveBefore(lines, i) });
    }
    i = end;
  }
  return blocks;
}

/** The directive in the comment that ends on the lines right before line `fenceIndex`. */
function directiveBefore(lines: readonly string[], fenceIndex: number): Pick<DocBlock, 'prelude' | 'skip' | 'tasks'> {
  let j = fenceIndex - 1;
  while (j >= 0 && lines[j]!.trim() === '') j--;
  const none = { prelude: '', skip: null, tasks: null };
  if (j < 0 || !lines[j]!.trimEnd().endsWith('-->')) return none;
  let start = j;
  while (start > 0 && !lines[start]!.includes('<!--')) start--;
  const match = DIRECTIVE.exec(lines.slice(start, j + 1).join('\n'));
  if (!match) return none;
  const [head = '', ...rest] = match[1]!.split('\n');
  const words = head.trim();
  const skip = /^skip\b\s*(.*)$/.exec(words);
  return {
    prelude: rest.join('\n').trimEnd(),
    skip: skip ? skip[1]!.trim() || '(no reason given)' : null,
    tasks: /\btasks=(\S+)/.exec(words)?.[1] ?? null,
  };
}

/** The lines outside fenced code, with their 0-based index. */
function proseLines(text: string): { text: string; index: number }[] {
  const out: { text: string; index: number }[] = [];
  let inFence: string | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    const fence = FENCE.exec(raw);
    if (fence) {
      if (inFence === null) inFence = fence[2]!;
      else if (raw.trimStart().startsWith(inFence)) inFence = null;
    } else if (inFence === null) {
      out.push({ text: raw, index });
    }
  });
  return out;
}

/** Inline links and images outside code, whose target is not a URL with a scheme. */
export function extractRelativeLinks(file: string, text: string): DocLink[] {
  const links: DocLink[] = [];
  for (const { text: raw, index } of proseLines(text)) {
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ file, line: index + 1, target });
    }
  }
  return links;
}

/** GitHub's heading anchors for one markdown file (lower-case, punctuation dropped, spaces to '-'). */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: raw } of proseLines(text)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!h) continue;
    const slug = h[1]!
      .toLowerCase()
      .replace(/<[^>]*>/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}
