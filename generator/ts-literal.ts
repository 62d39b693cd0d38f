/**
 * Prints plain data (JSON values, wire types) as TypeScript object literals in one
 * deterministic style: single quotes, bare keys where possible, keys in insertion order.
 */
import { propertyKey, quote } from './names.js';

export type Printable = null | boolean | number | string | readonly Printable[] | { readonly [key: string]: Printable | undefined };

export function tsLiteral(value: Printable): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      break;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ', ') + tsLiteral((value as readonly Printable[])[i]!);
    return `${out}]`;
  }
  let out = '';
  const obj = value as { readonly [key: string]: Printable | undefined };
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    // A literal `__proto__:` key would set the prototype instead of a property.
    out += `${out === '' ? '' : ', '}${k === '__proto__' ? "['__proto__']" : propertyKey(k)}: ${tsLiteral(v)}`;
  }
  return out === '' ? '{}' : `{ ${out} }`;
}
