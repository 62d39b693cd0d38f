/**
 * The runtime's error classes. Every error the runtime throws on purpose is a
 * CeleryGenError with a stable `code`, so callers (and the worker's reject/answer logic)
 * can branch on the code instead of parsing messages.
 */
import type { TaskState } from '../app/api.js';

export class CeleryGenError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export type ProtocolErrorCode =
  | 'NOT_JSON'
  | 'BAD_BODY'
  | 'BAD_HEADER'
  | 'MISSING_HEADER'
  | 'UNSUPPORTED_CONTENT_TYPE'
  | 'NOT_A_TASK'
  | 'BAD_RESULT'
  | 'TOO_LARGE';

/**
 * A message (or a value about to become one) that does not follow the wire protocol.
 * `taskId`/`taskName` carry whatever could be read before the failure, so a worker can
 * still answer FAILURE to the sender when it knows the id and the reply queue.
 */
export class ProtocolError extends CeleryGenError {
  declare readonly code: ProtocolErrorCode;
  readonly taskId?: string;
  readonly taskName?: string;

  constructor(
    code: ProtocolErrorCode,
    message: string,
    context: { taskId?: string | undefined; taskName?: string | undefined; cause?: unknown } = {},
  ) {
    super(code, message, context.cause === undefined ? undefined : { cause: context.cause });
    if (context.taskId !== undefined) this.taskId = context.taskId;
    if (context.taskName !== undefined) this.taskName = context.taskName;
  }
}

/**
 * A task ended in FAILURE (or was REVOKED). Carries the Python exception as the result
 * backend described it; `message` reads like Python's last traceback line.
 */
export class TaskError extends CeleryGenError {
  declare readonly code: 'TASK_FAILED' | 'TASK_REVOKED';
  readonly taskId: string;
  readonly state: TaskState;
  readonly excType: string;
  readonly excMessage: unknown[];
  readonly excModule: string | null;
  readonly traceback: string | null;

  constructor(init: {
    taskId: string;
    state: TaskState;
    excType: string;
    excMessage: unknown[];
    excModule: string | null;
    traceback: string | null;
  }) {
    const code = init.state === 'REVOKED' ? 'TASK_REVOKED' : 'TASK_FAILED';
    super(code, formatExceptionLine(init.excType, init.excMessage));
    this.taskId = init.taskId;
    this.state = init.state;
    this.excType = init.excType;
    this.excMessage = init.excMessage;
    this.excModule = init.excModule;
    this.traceback = init.traceback;
  }
}

/** `get()` gave up waiting. */
export class TimeoutError extends CeleryGenError {
  declare readonly code: 'TIMEOUT';
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

/**
 * Arguments that do not fit the task's Python signature. The worker answers it as a
 * Python `TypeError` FAILURE, so the message uses CPython's own wording.
 */
export class ArgumentError extends CeleryGenError {
  declare readonly code: 'BAD_ARGUMENTS';
  /** The Python exception class a Python caller sees. */
  readonly pythonType = 'TypeError';
  constructor(message: string) {
    super('BAD_ARGUMENTS', message);
  }
}

/** `ValueError: bad value`, `CustomError: custom failure, 42`, `NotRegistered: proj.tasks.x`. */
function formatExceptionLine(excType: string, excMessage: readonly unknown[]): string {
  const parts = excMessage.map((part) => (typeof part === 'string' ? part : safeJson(part)));
  return parts.length === 0 ? excType : `${excType}: ${parts.join(', ')}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Circular or BigInt payloads: the message is for humans, String() is enough.
    return String(value);
  }
}
