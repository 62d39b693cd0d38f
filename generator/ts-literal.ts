/**
 * Prints plain data (JSON values, wire types) as TypeScript object literals in one
 * deterministic style: single quotes, bare keys where possible, keys in insertion order.
 */
import { propertyKey, quote } from './names.js';

export type Printable = null | boolean | number | string | readonly Printable[] | { readonly [key: string]: Printable | undefined };

export function tsLiteral(value: Printable): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${(value as readonly Printable[]).map(tsLiteral).join(', ')}]`;
  const entries = Object.entries(value as { readonly [key: string]: Printable | undefined }).filter(
    (e): e is [string, Printable] => e[1] !== undefined,
  );
  if (entries.length === 0) return '{}';
  // A literal `__proto__:` key would set the prototype instead of a property.
  return `{ ${entries.map(([k, v]) => `${k === '__proto__' ? "['__proto__']" : propertyKey(k)}: ${tsLiteral(v)}`).join(', ')} }`;
}
