/**
 * Where a value sits in JSON text, so a config error can name its line. JSON.parse keeps
 * no positions; this walks the (already valid) text along a path of keys and indexes.
 */

export type JsonPath = readonly (string | number)[];

const WS = new Set([' ', '\t', '\n', '\r']);

function skipWs(t: string, i: number): number {
  while (i < t.length && WS.has(t[i]!)) i++;
  return i;
}

function skipString(t: string, i: number): number {
  for (i++; i < t.length && t[i] !== '"'; i++) if (t[i] === '\\') i++;
  return i + 1;
}

/** From a member's value at `i` to the start of the next member (or the closing bracket). */
function nextMember(t: string, i: number): number {
  const j = skipWs(t, skipValue(t, i));
  return t[j] === ',' ? skipWs(t, j + 1) : j;
}

/** The end of the value starting at `i` (after whitespace). */
function skipValue(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return skipString(t, i);
  if (c === '{' || c === '[') {
    const close = c === '{' ? '}' : ']';
    i = skipWs(t, i + 1);
    while (i < t.length && t[i] !== close) {
      if (c === '{') i = skipWs(t, skipString(t, i)) + 1; // past the key and its colon
      i = nextMember(t, skipWs(t, i));
    }
    return i + 1;
  }
  while (i < t.length && !WS.has(t[i]!) && t[i] !== ',' && t[i] !== '}' && t[i] !== ']') i++;
  return i;
}

/**
 * The offset of the value at `path` (or, with `key`, of its key in the enclosing object).
 * Where the path stops existing, the deepest part that exists: a missing key points at
 * its object.
 */
export function locateJson(text: string, path: JsonPath, key = false): number {
  let i = skipWs(text, 0);
  let keyAt = i;
  for (const step of path) {
    const c = text[i];
    let found = -1;
    if (c === '{' && typeof step === 'string') {
      let j = skipWs(text, i + 1);
      while (j < text.length && text[j] !== '}') {
        const keyStart = j;
        const keyEnd = skipString(text, j);
        const name = JSON.parse(text.slice(keyStart, keyEnd)) as string;
        const valueStart = skipWs(text, skipWs(text, keyEnd) + 1);
        if (name === step) {
          keyAt = keyStart;
          found = valueStart;
          break;
        }
        j = nextMember(text, valueStart);
      }
    } else if (c === '[' && typeof step === 'number') {
      let j = skipWs(text, i + 1);
      for (let n = 0; j < text.length && text[j] !== ']'; n++) {
        if (n === step) {
          keyAt = j;
          found = j;
          break;
        }
        j = nextMember(text, j);
      }
    }
    if (found < 0) return i;
    i = found;
  }
  return key ? keyAt : i;
}
