/**
 * Writes an own data property. Plain assignment is safe and fast for every key but
 * `__proto__`, whose assignment runs Object.prototype's setter and replaces the target's
 * prototype (the classic pollution route); that one key is defined instead.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
