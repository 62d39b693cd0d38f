/**
 * The runtime's logging seam: a four-method interface an app can back with pino, winston
 * or its own sink, and a small default that writes one line per event to stderr.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Replaces the password of every URL in a text with `***`. The transport already redacts
 * the URLs it logs; this is the safety net for error messages that quote one.
 */
export function redactSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

function isLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in RANK;
}

/**
 * Writes `LEVEL message {fields}` lines to stderr.
 * @param level the lowest level printed; @default `$CELERY_GEN_LOG_LEVEL` or 'info'
 */
export function consoleLogger(level?: LogLevel): Logger {
  const env = process.env.CELERY_GEN_LOG_LEVEL;
  const threshold = RANK[level ?? (isLevel(env) ? env : 'info')];
  const write = (lvl: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    if (RANK[lvl] < threshold) return;
    let line = `[celery-gen] ${lvl.toUpperCase()} ${message}`;
    if (fields && Object.keys(fields).length > 0) line += ` ${safeJson(fields)}`;
    process.stderr.write(`${redactSecrets(line)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function safeJson(fields: LogFields): string {
  try {
    return JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : typeof value === 'bigint' ? String(value) : value,
    );
  } catch {
    return '{"fields":"<unserialisable>"}';
  }
}

/** An error's message with secrets redacted: what logs and wrapped errors quote. */
export function messageOf(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
