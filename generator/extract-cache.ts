/**
 * Extraction results kept between runs, for watch mode: a module whose text is unchanged
 * is not parsed again. Keyed by file and module name (the same text under another module
 * name extracts differently); comparing the whole text is exact where an mtime is not
 * (editors and `sed -i` can keep or reuse timestamps).
 */
import type { ExtractedModule } from './extracted.js';
import type { SourceInput } from './inputs.js';

export class ExtractCache {
  readonly #entries = new Map<string, { readonly text: string; readonly extracted: ExtractedModule }>();
  /** How many extractions ran (not served from the cache): tests and the benchmark read it. */
  misses = 0;

  get(input: SourceInput, extract: (input: SourceInput) => ExtractedModule): ExtractedModule {
    const key = `${input.file}\0${input.module}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.text === input.text) return hit.extracted;
    const extracted = extract(input);
    this.misses++;
    this.#entries.set(key, { text: input.text, extracted });
    return extracted;
  }

  /** Forgets files no longer read by anyone, so a long watch session does not grow without bound. */
  retainFiles(files: ReadonlySet<string>): void {
    for (const key of this.#entries.keys()) if (!files.has(key.slice(0, key.indexOf('\0')))) this.#entries.delete(key);
  }
}
