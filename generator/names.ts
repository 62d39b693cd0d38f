/**
 * Every name the generated module invents comes from here: task keys, namespaces,
 * parameter names and property keys. Collisions are reported by the caller, never
 * resolved by silent suffixes.
 */

/** Words that cannot name a parameter in strict-mode TypeScript. */
const RESERVED = new Set([
  'arguments', 'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'eval', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'implements', 'import', 'in',
  'instanceof', 'interface', 'let', 'new', 'null', 'package', 'private', 'protected', 'public', 'return', 'static',
  'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield',
]);

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;

/**
 * `send_receipt` → `sendReceipt`, `SendReceipt` → `sendReceipt`, `HTTPPing` → `httpPing`.
 * Leading and trailing underscores are kept, so `_internal` stays distinguishable.
 */
export function camelCase(name: string): string {
  // Asked for each task by the checker and again by emit.
  let out = CAMEL.get(name);
  if (out === undefined) {
    out = toCamelCase(name);
    CAMEL.set(name, out);
  }
  return out;
}

const CAMEL = new Map<string, string>();

function toCamelCase(name: string): string {
  const lead = /^_*/.exec(name)![0];
  const trail = /_*$/.exec(name.slice(lead.length))![0];
  const core = name.slice(lead.length, name.length - trail.length);
  if (core === '') return name;
  const parts = core.split(/_+/).filter((p) => p !== '');
  const first = lowerFirstWord(parts[0]!);
  const rest = parts.slice(1).map((p) => p.charAt(0).toUpperCase() + p.slice(1));
  return lead + first + rest.join('') + trail;
}

/** Lowercases a leading capital run: `HTTPPing` → `httpPing`, `Add` → `add`, `URL` → `url`. */
function lowerFirstWord(word: string): string {
  const length = capitalRun(word);
  if (length === 0) return word;
  if (length === word.length) return word.toLowerCase();
  if (length === 1) return word.slice(0, 1).toLowerCase() + word.slice(1);
  // The last capital starts the next word.
  return word.slice(0, length - 1).toLowerCase() + word.slice(length - 1);
}

/**
 * The length (in UTF-16 units) of the capital letters `word` starts with. On ASCII that
 * is [A-Z]; the Unicode class \p{Lu} costs a millisecond to compile, a tenth of a small
 * run's own work, so only a word with other characters in its run pays for it.
 */
function capitalRun(word: string): number {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 0x80) return /^\p{Lu}+/u.exec(word)?.[0].length ?? 0;
    if (c < 0x41 || c > 0x5a) return i;
  }
  return word.length;
}

/** A Python parameter name usable as a TypeScript parameter or tuple label. */
export function paramName(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}

const ASCII_IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function isIdentifier(name: string): boolean {
  // Nearly every name is ASCII: the plain pattern first, Unicode's ID classes only for the rest.
  return ASCII_IDENTIFIER.test(name) || IDENTIFIER.test(name);
}

/** A property key: bare when it is an identifier name (reserved words are fine there), quoted otherwise. */
export function propertyKey(name: string): string {
  return isIdentifier(name) ? name : quote(name);
}

const SAFE_STRING = /^[^'\\\x00-\x1f\x7f\u2028\u2029]*$/;

/** A single-quoted TypeScript string literal. */
export function quote(value: string): string {
  if (SAFE_STRING.test(value)) return `'${value}'`;
  let out = "'";
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === "'") out += "\\'";
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + "'";
}

/**
 * Names the generated module declares or imports itself; a Python type with one of
 * these names would shadow it.
 */
export const GENERATED_NAMES: ReadonlySet<string> = new Set([
  'TASK_SPECS', 'TaskHandlers', 'TaskClients', 'createClient', 'createWorker',
  'bindTask', 'defineTask', 'implementTask', 'Awaitable', 'Celery', 'ClientOf', 'Worker', 'WorkerOptions', 'TaskContext',
  // Exception classes: their list, and what they extend or are typed by.
  'EXCEPTIONS', 'builtins', 'PythonExceptionClass', 'TaskError',
  // Global types the emitted code refers to.
  'Record', 'Uint8Array', 'PromiseLike',
]);

/**
 * The namespace key of each module when several are generated into one file: the
 * dotted module name without the leading and trailing segments all of them share,
 * camelCased and joined (`proj.billing.tasks`, `proj.mail.tasks` → `billing`, `mail`;
 * `billing.tasks`, `billing.jobs.tasks` → `tasks`, `jobsTasks`). At least one segment
 * always stays.
 */
export function namespaceKeys(modules: readonly string[]): string[] {
  const split = modules.map((m) => m.split('.'));
  let prefix = 0;
  let suffix = 0;
  if (split.length > 1) {
    const shortest = Math.min(...split.map((s) => s.length));
    while (prefix < shortest - 1 && split.every((s) => s[prefix] === split[0]![prefix])) prefix++;
    const at = (s: readonly string[], i: number) => s[s.length - 1 - i];
    while (prefix + suffix < shortest - 1 && split.every((s) => at(s, suffix) === at(split[0]!, suffix))) suffix++;
  }
  return split.map((segments) => camelCase(segments.slice(prefix, segments.length - suffix).join('_')));
}
