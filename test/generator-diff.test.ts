/**
 * The unified diff `--check` prints: applying it to the old text gives the new text,
 * hunk headers count their lines, and the edit is minimal (checked against an LCS).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { unifiedDiff } from '../generator/unified-diff.js';

/** Applies a diff made by unifiedDiff (no "No newline" markers) to `old`. */
function applyDiff(old: string, diff: string): string {
  const a = old === '' ? [] : old.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let i = 0;
  const lines = diff.replace(/\n$/, '').split('\n').slice(2);
  for (let k = 0; k < lines.length; k++) {
    const h = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[k]!);
    assert.ok(h, `bad hunk header ${lines[k]}`);
    const oldCount = h[2] === undefined ? 1 : Number(h[2]);
    const newCount = h[4] === undefined ? 1 : Number(h[4]);
    const oldStart = oldCount === 0 ? Number(h[1]) : Number(h[1]) - 1;
    while (i < oldStart) out.push(a[i++]!);
    let seenOld = 0;
    let seenNew = 0;
    while (k + 1 < lines.length && !lines[k + 1]!.startsWith('@@')) {
      const l = lines[++k]!;
      const body = l.slice(1);
      if (l[0] === ' ') {
        assert.equal(a[i], body, 'context line does not match');
        out.push(a[i++]!);
        seenOld++;
        seenNew++;
      } else if (l[0] === '-') {
        assert.equal(a[i], body, 'removed line does not match');
        i++;
        seenOld++;
      } else if (l[0] === '+') {
        out.push(body);
        seenNew++;
      } else assert.fail(`bad diff line ${l}`);
    }
    assert.equal(seenOld, oldCount, 'old count in hunk header');
    assert.equal(seenNew, newCount, 'new count in hunk header');
  }
  while (i < a.length) out.push(a[i++]!);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function lcs(a: readonly string[], b: readonly string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  }
  return dp[a.length]![b.length]!;
}

const linesArb = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', '', '}'), { maxLength: 40 });

test('diff of equal texts is empty', () => {
  assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y'), '');
});

test('a one-line change gives the classic three-line-context hunk', () => {
  const old = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
  const neu = old.replace('5\n', 'five\n');
  assert.equal(unifiedDiff(old, neu, 'old', 'new'), '--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n');
});

test('applying the diff to the old text gives the new text, with a minimal edit', () => {
  fc.assert(
    fc.property(linesArb, linesArb, (a, b) => {
      const old = a.length ? `${a.join('\n')}\n` : '';
      const neu = b.length ? `${b.join('\n')}\n` : '';
      const diff = unifiedDiff(old, neu, 'old', 'new');
      if (old === neu) return diff === '';
      assert.equal(applyDiff(old, diff), neu);
      const changed = diff.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;
      assert.equal(changed, a.length + b.length - 2 * lcs(a, b), 'not a minimal edit');
      return true;
    }),
    { numRuns: 500, seed: 42 },
  );
});
