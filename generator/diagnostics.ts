/**
 * Diagnostics: every problem the generator finds, with a position an editor can jump to.
 * Positions are 1-based lines and 1-based columns counted in characters (code points),
 * like tsc and gcc; tree-sitter's 0-based UTF-16 offsets are converted here and nowhere else.
 */

export type Severity = 'error' | 'warning';

/** Stable identifiers, so tests and tools need not match message text. */
export type DiagnosticCode =
  | 'syntax-error'
  | 'unreadable-file'
  | 'invalid-encoding'
  | 'unknown-type'
  | 'bytes-over-json'
  | 'return-not-json'
  | 'non-literal-name'
  | 'name-collision'
  | 'module-name'
  /** `--app` names no module under the import root. */
  | 'app-not-found'
  | 'unregistered-task-class'
  | 'unsupported-signature'
  | 'option-type'
  | 'unresolved-option'
  | 'unresolved-route'
  | 'unresolved-exception'
  /** A config file problem: unknown key, wrong type, a glob that matches nothing. */
  | 'config'
  /** A generated file could not be written. */
  | 'unwritable-output';

export interface Diagnostic {
  readonly file: string;
  /** 0 when the file's format has no lines to point at (a config module's exported object). */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  readonly message: string;
}

/**
 * Source text quoted in a message: on one line (a diagnostic is one line, as editors
 * read them) and short (a message must stay readable when the code it quotes is huge).
 */
export function excerpt(text: string, max = 60): string {
  const flat = text.replace(/[\s\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** `path:line:col: error: message` (`path: error: message` without a line), the one text form of a diagnostic. */
export function formatDiagnostic(d: Diagnostic): string {
  if (d.line === 0) return `${d.file}: ${d.severity}: ${d.message}`;
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * Converts UTF-16 offsets (what JavaScript strings and tree-sitter's Node binding use)
 * into 1-based line and character columns for one source text. Lines end at LF, CRLF
 * or a lone CR, as Python reads source.
 */
export class LineMap {
  readonly #text: string;
  readonly #starts: number[] = [0];
  /** Whether the text has astral characters (surrogate pairs) at all; if not, columns are offsets. */
  readonly #astral: boolean;

  constructor(text: string) {
    this.#text = text;
    let i = text.indexOf('\n');
    while (i >= 0) {
      this.#starts.push(i + 1);
      i = text.indexOf('\n', i + 1);
    }
    // A lone CR ends a line too, for Python (universal newlines) and for editors.
    if (text.includes('\r')) {
      for (let r = text.indexOf('\r'); r >= 0; r = text.indexOf('\r', r + 1)) {
        if (text.charCodeAt(r + 1) !== 10) this.#starts.push(r + 1);
      }
      this.#starts.sort((a, b) => a - b);
    }
    this.#astral = /[\ud800-\udbff]/.test(text);
  }

  position(offset: number): { line: number; column: number } {
    const line = this.line(offset);
    return { line, column: this.column(line, offset) };
  }

  /** The 1-based line holding `offset`. */
  line(offset: number): number {
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The 1-based character column of `offset` on `line` (from {@link line}). */
  column(line: number, offset: number): number {
    const start = this.#starts[line - 1]!;
    if (!this.#astral) return Math.min(offset, this.#text.length) - start + 1;
    let column = 1;
    for (let i = start; i < offset && i < this.#text.length; i++) {
      const c = this.#text.charCodeAt(i);
      // A surrogate pair is one character: count only its high half.
      if (c < 0xdc00 || c > 0xdfff) column++;
    }
    return column;
  }
}

/** A diagnostic spanning [start, end) of `file`, positions taken from its line map. */
export function diagnosticAt(
  file: string,
  lines: LineMap,
  start: number,
  end: number,
  severity: Severity,
  code: DiagnosticCode,
  message: string,
): Diagnostic {
  const s = lines.position(start);
  const e = lines.position(Math.max(start, end));
  return { file, line: s.line, column: s.column, endLine: e.line, endColumn: e.column, severity, code, message };
}

/** A diagnostic about a whole file (it could not be read at all). */
export function fileDiagnostic(file: string, code: DiagnosticCode, message: string): Diagnostic {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code, message };
}

/** Sorted by file order given, then position; stable for equal positions. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[], fileOrder: readonly string[]): Diagnostic[] {
  const rank = new Map(fileOrder.map((f, i) => [f, i] as const));
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        (rank.get(a.d.file) ?? fileOrder.length) - (rank.get(b.d.file) ?? fileOrder.length) ||
        a.d.line - b.d.line ||
        a.d.column - b.d.column ||
        a.i - b.i,
    )
    .map((x) => x.d);
}
