/**
 * Docstring → JSDoc comment lines. Parameter sections become `@param` lines for the
 * parameters the TypeScript signature has; the rest of the text is kept as written.
 */
import { parseDocstring } from './docstrings.js';

/**
 * @param params pairs of [Python name, TypeScript parameter name]; `@param` lines are
 * written for these only, in the docstring's order.
 * @param throws `@throws` tag texts (`{CardDeclined} the issuer refused`); the docstring's
 * own Raises section is left out, since these say the same with resolved classes.
 */
export function jsDocLines(doc: string | null, params: ReadonlyArray<readonly [string, string]>, throws: readonly string[] = []): string[] {
  if ((doc === null || doc.trim() === '') && throws.length === 0) return [];
  const parsed = parseDocstring(doc ?? '');
  const tsName = new Map(params);
  const body = parsed.description === '' ? [] : parsed.description.split('\n');
  const tags: string[] = [];
  for (const [name, text] of parsed.params) {
    const ts = tsName.get(name);
    if (ts !== undefined) tags.push(`@param ${ts}${text ? ` ${text}` : ''}`);
  }
  if (parsed.returns) tags.push(`@returns ${parsed.returns}`);
  for (const text of throws) tags.push(`@throws ${text}`);
  const lines = [...body];
  if (tags.length > 0 && lines.length > 0) lines.push('');
  lines.push(...tags);
  if (lines.length === 1) return [`/** ${escape(lines[0]!)} */`];
  return ['/**', ...lines.map((l) => (l === '' ? ' *' : ` * ${escape(l)}`)), ' */'];
}

function escape(line: string): string {
  return line.replace(/\*\//g, '*\\/');
}
