/**
 * The runtime's logging seam: a four-method interface an app can back with pino, winston
 * or its own sink, and a small default that writes one line per event to stderr.
 *
 * Levels follow Python's worker: per-task lines (received, succeeded, retried) are info,
 * and the default level is warn, so a worker run with defaults prints nothing per task
 * (Python's `celery worker` starts at WARNING; `-l info` turns them on).
 */
import { CeleryGenError } from '../protocol/errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** A level as the `logLevel` option takes it: any case, and Python's names `warning` and `critical`. */
export type LogLevelName = LogLevel | Uppercase<LogLevel> | 'warning' | 'WARNING' | 'critical' | 'CRITICAL';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * Whether lines of this level are written (pino and winston loggers have it). The worker
   * asks before building a per-task line, so a line that is off costs nothing. Absent: on.
   */
  isLevelEnabled?(level: Exclude<LogLevel, 'silent'>): boolean;
}

/** What an app logs at when neither the `logLevel` option nor `$CELERY_GEN_LOG_LEVEL` says. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const PYTHON_NAMES: Readonly<Record<string, LogLevel>> = { warning: 'warn', critical: 'error', fatal: 'error' };

/**
 * Replaces the password of every URL in a text with `***`. The transport already redacts
 * the URLs it logs; this is the safety net for error messages that quote one.
 */
export function redactSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

/** Reads a level name, any case; an unknown name is an error, never a silent fallback. */
export function parseLogLevel(name: string, source = 'logLevel'): LogLevel {
  const key = name.trim().toLowerCase();
  const level = PYTHON_NAMES[key] ?? (Object.hasOwn(RANK, key) ? (key as LogLevel) : undefined);
  if (level === undefined) {
    throw new CeleryGenError('BAD_LOG_LEVEL', `${source}: unknown log level '${name}'; use debug, info, warn (warning), error or silent`);
  }
  return level;
}

/** The level an app logs at: the option, else `$CELERY_GEN_LOG_LEVEL`, else warn. */
export function resolveLogLevel(option?: string): LogLevel {
  if (option !== undefined) return parseLogLevel(option);
  const env = process.env.CELERY_GEN_LOG_LEVEL;
  return env === undefined || env.trim() === '' ? DEFAULT_LOG_LEVEL : parseLogLevel(env, 'CELERY_GEN_LOG_LEVEL');
}

/**
 * Writes `LEVEL message {fields}` lines to stderr.
 * @param level the lowest level printed; @default `$CELERY_GEN_LOG_LEVEL` or 'warn'
 */
export function consoleLogger(level?: LogLevelName): Logger {
  const threshold = RANK[resolveLogLevel(level)];
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
    isLevelEnabled: (lvl) => RANK[lvl] >= threshold,
  };
}

/** `logger` with the lines below `level` dropped before they reach it (an app's `logLevel` over a logger it was given). */
export function loggerAtLevel(logger: Logger, level: LogLevel): Logger {
  const threshold = RANK[level];
  const passes = (lvl: Exclude<LogLevel, 'silent'>): boolean => RANK[lvl] >= threshold;
  const drop = (): void => undefined;
  return {
    debug: passes('debug') ? (m, f) => logger.debug(m, f) : drop,
    info: passes('info') ? (m, f) => logger.info(m, f) : drop,
    warn: passes('warn') ? (m, f) => logger.warn(m, f) : drop,
    error: passes('error') ? (m, f) => logger.error(m, f) : drop,
    // Asked each time: the wrapped logger's own level may change at run time (pino's `logger.level = …`).
    isLevelEnabled: (lvl) => passes(lvl) && (logger.isLevelEnabled?.(lvl) ?? true),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, isLevelEnabled: () => false };

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
