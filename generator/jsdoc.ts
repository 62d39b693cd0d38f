/**
 * Docstring → JSDoc comment lines. Parameter sections become `@param` lines for the
 * parameters the TypeScript signature has; the rest of the text is kept as written.
 */
import { parseDocstring } from './docstrings.js';

/**
 * @param params pairs of [Python name, TypeScript parameter name]; `@param` lines are
 * written for these only, in the docstring's order.
 */
export function jsDocLines(doc: string | null, params: ReadonlyArray<readonly [string, string]>): string[] {
  if (doc === null || doc.trim() === '') return [];
  const parsed = parseDocstring(doc);
  const tsName = new Map(params);
  const body = parsed.description === '' ? [] : parsed.description.split('\n');
  const tags: string[] = [];
  for (const [name, text] of parsed.params) {
    const ts = tsName.get(name);
    if (ts !== undefined) tags.push(`@param ${ts}${text ? ` ${text}` : ''}`);
  }
  if (parsed.returns) tags.push(`@returns ${parsed.returns}`);
  const lines = [...body];
  if (tags.length > 0 && lines.length > 0) lines.push('');
  lines.push(...tags);
  if (lines.length === 1) return [`/** ${escape(lines[0]!)} */`];
  return ['/**', ...lines.map((l) => (l === '' ? ' *' : ` * ${escape(l)}`)), ' */'];
}

function escape(line: string): string {
  return line.replace(/\*\//g, '*\\/');
}
