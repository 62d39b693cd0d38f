/**
 * The decorator options the runtime honours (`TaskOptions` in runtime/protocol/spec.ts) and the
 * JSON types each accepts. The generated spec carries only these, and only literal values
 * of the right type; the manifest keeps every option as written.
 */
import type { JsonValue } from './model.js';

type Accepts = 'string' | 'number' | 'boolean' | 'null';

export const TASK_OPTION_TYPES: ReadonlyMap<string, readonly Accepts[]> = new Map<string, readonly Accepts[]>([
  ['queue', ['string']],
  ['exchange', ['string']],
  ['routing_key', ['string']],
  ['priority', ['number']],
  ['serializer', ['string']],
  ['max_retries', ['number', 'null']],
  ['default_retry_delay', ['number']],
  ['acks_late', ['boolean']],
  ['ignore_result', ['boolean']],
  ['rate_limit', ['string', 'number', 'null']],
  ['time_limit', ['number', 'null']],
  ['soft_time_limit', ['number', 'null']],
  ['expires', ['number', 'null']],
]);

function jsonKind(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Whether `value` fits the option's type; `undefined` when the runtime does not know the option. */
export function optionFits(key: string, value: JsonValue): boolean | undefined {
  const accepts = TASK_OPTION_TYPES.get(key);
  if (!accepts) return undefined;
  return (accepts as readonly string[]).includes(jsonKind(value));
}

/** The options that go into the emitted spec, in source order. */
export function runtimeOptions(
  options: { readonly [key: string]: JsonValue },
  nonLiteral: readonly string[],
): [string, JsonValue][] {
  return Object.entries(options).filter(([k, v]) => !nonLiteral.includes(k) && optionFits(k, v) === true);
}
