/**
 * Which TypeScript class a FAILURE becomes. Generated modules hand their exception classes
 * to the app (`app.registerExceptions(EXCEPTIONS)`, which their `createClient` does);
 * `get()` then rejects with the class matching the result's `exc_module` + `exc_type`
 * exactly, else with the Python builtin of that name (`exc_module` 'builtins'), else with a
 * plain {@link TaskError}. Pure: no I/O, so results of every backend share it.
 */
import { TaskError } from '../protocol/errors.js';
import { taskErrorFromMeta, type ResultMeta } from '../protocol/message.js';
import * as builtins from '../protocol/python-builtins.js';

/** A class with a Python identity: a `builtins` class or a generated one. */
export type PythonExceptionClass = (new (...args: unknown[]) => builtins.BaseException) & {
  readonly pythonModule: string;
  readonly pythonQualname: string;
};

const BUILTINS: ReadonlyMap<string, PythonExceptionClass> = new Map(
  Object.values(builtins).map((cls: PythonExceptionClass) => [cls.pythonQualname, cls] as const),
);

/** The fields `get()`'s rejection carries from the result, whatever class it is. */
interface FailureFields {
  taskId: string;
  state: TaskError['state'];
  excType: string;
  excModule: string | null;
  excMessage: unknown[];
  traceback: string | null;
}

export class ExceptionRegistry {
  readonly #classes = new Map<string, PythonExceptionClass>();

  /**
   * Adds classes by their Python identity. The first class registered for an identity
   * keeps it: two generated modules that both emit `proj.errors.CardDeclined` hold two
   * distinct classes, and only the first one's `instanceof` matches (generate them together).
   */
  register(classes: Iterable<PythonExceptionClass>): void {
    for (const cls of classes) {
      const key = `${cls.pythonModule}:${cls.pythonQualname}`;
      if (!this.#classes.has(key)) this.#classes.set(key, cls);
      // Python's worker sends `type(exc).__name__`, without the enclosing classes of a nested one.
      const short = `${cls.pythonModule}:${cls.pythonQualname.split('.').pop()!}`;
      if (!this.#classes.has(short)) this.#classes.set(short, cls);
    }
  }

  /** The class a failure with this identity becomes, or undefined for a plain TaskError. */
  classFor(excModule: string | null, excType: string): PythonExceptionClass | undefined {
    if (excModule !== null) {
      const registered = this.#classes.get(`${excModule}:${excType}`);
      if (registered) return registered;
    }
    return excModule === 'builtins' ? BUILTINS.get(excType) : undefined;
  }

  /** The error `get()` rejects with for a FAILURE/REVOKED meta. */
  errorFromMeta(meta: ResultMeta): TaskError {
    const plain = taskErrorFromMeta(meta);
    // REVOKED is the runtime's word (TaskRevokedError), never the task's own exception.
    const cls = plain.state === 'FAILURE' ? this.classFor(plain.excModule, plain.excType) : undefined;
    if (!cls) return plain;
    let error: builtins.BaseException;
    try {
      error = new cls(...plain.excMessage);
    } catch {
      // A hand-written registered class whose constructor refuses Python's args.
      return plain;
    }
    // The constructor took Python's args; the rest is the result's (readonly to users, set once here).
    const { taskId, state, excType, excModule, excMessage, traceback } = plain;
    const fields: FailureFields = { taskId, state, excType, excModule, excMessage, traceback };
    return Object.assign(error, fields);
  }
}

/** For results created without an app (tests, lower-level use): builtins only. */
export const BUILTINS_ONLY = new ExceptionRegistry();
