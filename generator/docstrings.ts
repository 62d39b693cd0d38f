/**
 * Docstrings: dedenting as Python's `inspect.cleandoc` does, and splitting out the
 * parameter, return and raises sections of the three common styles (Google `Args:`, NumPy
 * `Parameters` + dashes, Sphinx `:param x:`) so emit can write `@param` lines.
 */

export interface ParsedDoc {
  /** The text without the parameter/return sections. */
  readonly description: string;
  /** Parameter name (without `*`/`**`) → description, in docstring order. */
  readonly params: ReadonlyArray<readonly [name: string, text: string]>;
  readonly returns: string | null;
  /** Exception name as written → description, from `Raises:` / NumPy `Raises` / Sphinx `:raises X:`. */
  readonly raises: ReadonlyArray<readonly [name: string, text: string]>;
}

/** `inspect.cleandoc`: expand tabs, strip the first line, remove the common indent of the rest. */
export function cleandoc(doc: string): string {
  if (!doc.includes('\n') && !doc.includes('\t')) return doc.trim();
  const lines = doc.replace(/\r\n?/g, '\n').split('\n').map((l) => expandTabs(l));
  let margin = Infinity;
  for (const line of lines.slice(1)) {
    const content = line.trimStart();
    if (content) margin = Math.min(margin, line.length - content.length);
  }
  const out = [lines[0]!.trimStart()];
  for (const line of lines.slice(1)) out.push(margin === Infinity ? line.trimStart() : line.slice(margin).trimEnd());
  while (out.length > 0 && out[0]!.trim() === '') out.shift();
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out.map((l) => l.trimEnd()).join('\n');
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

const GOOGLE_PARAMS = /^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Kwargs|Other Parameters):\s*$/;
const GOOGLE_RETURNS = /^(Returns|Return):\s*$/;
const GOOGLE_RAISES = /^(Raises|Raise|Exceptions|Except):\s*$/;
const NUMPY_RAISES = /^Raises$/;
const NUMPY_PARAMS = /^(Parameters|Other Parameters|Keyword Arguments)$/;
const NUMPY_RETURNS = /^Returns$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

export function parseDocstring(doc: string): ParsedDoc {
  const lines = doc.split('\n');
  const description: string[] = [];
  const params: [string, string][] = [];
  let returns: string | null = null;
  const raises: [string, string][] = [];
  const addParam = (name: string, text: string) => {
    const bare = name.replace(/^\*{1,2}/, '');
    if (bare) params.push([bare, text]);
  };

  const trimmedLines = lines.map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = trimmedLines[i]!;
    const next = trimmedLines[i + 1] ?? '';
    const numpyHeader = next.charCodeAt(0) === 45 && /^-{3,}$/.test(next);
    // Only a line ending in ':' (Google), starting with ':' (Sphinx) or underlined (NumPy)
    // can open a section: every other line is description, without trying the patterns.
    if (!numpyHeader && trimmed.charCodeAt(0) !== 58 && trimmed.charCodeAt(trimmed.length - 1) !== 58) {
      description.push(line);
      continue;
    }
    const indent = indentOf(line);

    if (GOOGLE_PARAMS.test(trimmed) || GOOGLE_RETURNS.test(trimmed) || GOOGLE_RAISES.test(trimmed)) {
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() !== '' && indentOf(l) <= indent) break;
        body.push(l);
      }
      // `int: The sum.`: the type is the TypeScript signature's business.
      if (GOOGLE_RETURNS.test(trimmed)) returns = joinText(body).replace(/^[\w.[\], |]+:\s+/, '') || null;
      else if (GOOGLE_RAISES.test(trimmed)) raises.push(...googleEntries(body, /^\s*([\w.]+)\s*(?::\s*(.*))?$/));
      else {
        for (const [name, text] of googleEntries(body)) addParam(name, text);
      }
      i = j - 1;
      continue;
    }
    if (numpyHeader && (NUMPY_PARAMS.test(trimmed) || NUMPY_RETURNS.test(trimmed) || NUMPY_RAISES.test(trimmed))) {
      const body: string[] = [];
      let j = i + 2;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() !== '' && /^-{3,}$/.test(lines[j + 1]?.trim() ?? '') && indentOf(l) <= indent) break;
        body.push(l);
      }
      const entries = numpyEntries(body, indent);
      if (NUMPY_RAISES.test(trimmed)) {
        for (const [name, text] of entries) for (const one of name.split(/\s*,\s*/)) if (one) raises.push([one, text]);
      } else if (NUMPY_RETURNS.test(trimmed)) {
        returns = entries.map(([name, text]) => text || name).join(' ') || null;
      } else {
        for (const [name, text] of entries) addParam(name.split(/\s*,\s*/)[0]!, text);
      }
      i = j - 1;
      continue;
    }
    const sphinx = /^:(param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?(\*{0,2}[\w]+)\s*:\s*(.*)$/.exec(trimmed);
    const sphinxReturn = /^:(returns?)\s*:\s*(.*)$/.exec(trimmed);
    const sphinxType = /^:(type|rtype|vartype)\b[^:]*:/.test(trimmed);
    const sphinxRaises = /^:(?:raises|raise|except|exception)\s+([\w.]+(?:\s*,\s*[\w.]+)*)\s*:\s*(.*)$/.exec(trimmed);
    if (sphinx || sphinxReturn || sphinxType || sphinxRaises) {
      const text = [sphinx ? sphinx[3]! : sphinxReturn ? sphinxReturn[2]! : sphinxRaises ? sphinxRaises[2]! : ''];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() === '' || indentOf(l) <= indent) break;
        text.push(l);
      }
      if (sphinx) addParam(sphinx[2]!, joinText(text));
      else if (sphinxReturn) returns = joinText(text) || null;
      else if (sphinxRaises) for (const one of sphinxRaises[1]!.split(/\s*,\s*/)) raises.push([one, joinText(text)]);
      i = j - 1;
      continue;
    }
    description.push(line);
  }
  while (description.length > 0 && description[description.length - 1]!.trim() === '') description.pop();
  return { description: description.join('\n'), params, returns, raises };
}

/** Google entries: `name (type): text` at the body's indent, continuation lines deeper. */
function googleEntries(body: readonly string[], entry = /^\s*(\*{0,2}[\w]+)\s*(?:\([^)]*\))?\s*:\s*(.*)$/): [string, string][] {
  const nonBlank = body.filter((l) => l.trim() !== '');
  if (nonBlank.length === 0) return [];
  const base = Math.min(...nonBlank.map(indentOf));
  const out: [string, string[]][] = [];
  for (const line of body) {
    if (line.trim() === '') continue;
    const m = indentOf(line) === base ? entry.exec(line) : null;
    if (m) out.push([m[1]!, [m[2] ?? '']]);
    else if (out.length > 0) out[out.length - 1]![1].push(line);
  }
  return out.map(([n, t]) => [n, joinText(t)]);
}

/** NumPy entries: `name : type` at the section's indent, description lines deeper. */
function numpyEntries(body: readonly string[], indent: number): [string, string][] {
  const out: [string, string[]][] = [];
  for (const line of body) {
    if (line.trim() === '') continue;
    if (indentOf(line) <= indent) out.push([line.trim().split(/\s+:\s*|\s*:\s+/)[0]!.trim(), []]);
    else if (out.length > 0) out[out.length - 1]![1].push(line);
  }
  return out.map(([n, t]) => [n, joinText(t)]);
}

function joinText(lines: readonly string[]): string {
  return lines
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}
