/**
 * Python's builtin exception classes, with CPython's hierarchy (`KeyError` is a
 * `LookupError`, `TimeoutError` an `OSError`). Exported from 'celery-gen' as the namespace
 * `builtins` (`builtins.KeyError`), so they never shadow JavaScript's own `TypeError` /
 * `RangeError` nor the runtime's `TimeoutError` (the `get()` timeout) in user code.
 *
 * Every one is a {@link TaskError}: `get()` rejects with them when a Python task raised the
 * builtin, and a TypeScript handler that throws one is reported to Python as that builtin.
 * Generated exception classes extend these and set their own identity.
 *
 * SystemExit, KeyboardInterrupt and GeneratorExit are left out on purpose: raising them in
 * a Python caller would stop its process.
 */
import { TaskError } from './errors.js';

/**
 * The root of every Python exception class in TypeScript. A class's Python identity is
 * its static `pythonModule` + `pythonQualname`; a plain JavaScript subclass inherits them,
 * so it is reported to Python as its nearest class that has one (which Python's `except`
 * of that class, or of any base, does catch).
 */
export class BaseException extends TaskError {
  /** The Python module that defines the class (`exc_module` on the wire). */
  static readonly pythonModule: string = 'builtins';
  /** The class's qualified name in that module (`exc_type` on the wire). */
  static readonly pythonQualname: string = 'BaseException';

  /** Python's `args`: what the exception was constructed with (`exc_message` on the wire). */
  constructor(...args: unknown[]) {
    super({ taskId: '', state: 'FAILURE', excType: new.target.pythonQualname, excMessage: args, excModule: new.target.pythonModule, traceback: null });
  }

  /** Python's `exc.args`. */
  get args(): unknown[] {
    return this.excMessage;
  }
}

/** Python's `Exception`: Common base class for all non-exit exceptions. */
export class Exception extends BaseException {
  static override readonly pythonQualname: string = 'Exception';
}

/** Python's `StopIteration`: Signal the end from iterator.__next__(). */
export class StopIteration extends Exception {
  static override readonly pythonQualname: string = 'StopIteration';
}

/** Python's `StopAsyncIteration`: Signal the end from iterator.__anext__(). */
export class StopAsyncIteration extends Exception {
  static override readonly pythonQualname: string = 'StopAsyncIteration';
}

/** Python's `ArithmeticError`: Base class for arithmetic errors. */
export class ArithmeticError extends Exception {
  static override readonly pythonQualname: string = 'ArithmeticError';
}

/** Python's `FloatingPointError`: Floating point operation failed. */
export class FloatingPointError extends ArithmeticError {
  static override readonly pythonQualname: string = 'FloatingPointError';
}

/** Python's `OverflowError`: Result too large to be represented. */
export class OverflowError extends ArithmeticError {
  static override readonly pythonQualname: string = 'OverflowError';
}

/** Python's `ZeroDivisionError`: Second argument to a division or modulo operation was zero. */
export class ZeroDivisionError extends ArithmeticError {
  static override readonly pythonQualname: string = 'ZeroDivisionError';
}

/** Python's `AssertionError`: Assertion failed. */
export class AssertionError extends Exception {
  static override readonly pythonQualname: string = 'AssertionError';
}

/** Python's `AttributeError`: Attribute not found. */
export class AttributeError extends Exception {
  static override readonly pythonQualname: string = 'AttributeError';
}

/** Python's `BufferError`: Buffer error. */
export class BufferError extends Exception {
  static override readonly pythonQualname: string = 'BufferError';
}

/** Python's `EOFError`: Read beyond end of file. */
export class EOFError extends Exception {
  static override readonly pythonQualname: string = 'EOFError';
}

/** Python's `ImportError`: Import can't find module, or can't find name in module. */
export class ImportError extends Exception {
  static override readonly pythonQualname: string = 'ImportError';
}

/** Python's `ModuleNotFoundError`: Module not found. */
export class ModuleNotFoundError extends ImportError {
  static override readonly pythonQualname: string = 'ModuleNotFoundError';
}

/** Python's `LookupError`: Base class for lookup errors. */
export class LookupError extends Exception {
  static override readonly pythonQualname: string = 'LookupError';
}

/** Python's `IndexError`: Sequence index out of range. */
export class IndexError extends LookupError {
  static override readonly pythonQualname: string = 'IndexError';
}

/** Python's `KeyError`: Mapping key not found. */
export class KeyError extends LookupError {
  static override readonly pythonQualname: string = 'KeyError';
}

/** Python's `MemoryError`: Out of memory. */
export class MemoryError extends Exception {
  static override readonly pythonQualname: string = 'MemoryError';
}

/** Python's `NameError`: Name not found globally. */
export class NameError extends Exception {
  static override readonly pythonQualname: string = 'NameError';
}

/** Python's `UnboundLocalError`: Local name referenced but not bound to a value. */
export class UnboundLocalError extends NameError {
  static override readonly pythonQualname: string = 'UnboundLocalError';
}

/** Python's `OSError`: Base class for I/O related errors. */
export class OSError extends Exception {
  static override readonly pythonQualname: string = 'OSError';
}

/** Python's `BlockingIOError`: I/O operation would block. */
export class BlockingIOError extends OSError {
  static override readonly pythonQualname: string = 'BlockingIOError';
}

/** Python's `ChildProcessError`: Child process error. */
export class ChildProcessError extends OSError {
  static override readonly pythonQualname: string = 'ChildProcessError';
}

/** Python's `ConnectionError`: Connection error. */
export class ConnectionError extends OSError {
  static override readonly pythonQualname: string = 'ConnectionError';
}

/** Python's `BrokenPipeError`: Broken pipe. */
export class BrokenPipeError extends ConnectionError {
  static override readonly pythonQualname: string = 'BrokenPipeError';
}

/** Python's `ConnectionAbortedError`: Connection aborted. */
export class ConnectionAbortedError extends ConnectionError {
  static override readonly pythonQualname: string = 'ConnectionAbortedError';
}

/** Python's `ConnectionRefusedError`: Connection refused. */
export class ConnectionRefusedError extends ConnectionError {
  static override readonly pythonQualname: string = 'ConnectionRefusedError';
}

/** Python's `ConnectionResetError`: Connection reset. */
export class ConnectionResetError extends ConnectionError {
  static override readonly pythonQualname: string = 'ConnectionResetError';
}

/** Python's `FileExistsError`: File already exists. */
export class FileExistsError extends OSError {
  static override readonly pythonQualname: string = 'FileExistsError';
}

/** Python's `FileNotFoundError`: File not found. */
export class FileNotFoundError extends OSError {
  static override readonly pythonQualname: string = 'FileNotFoundError';
}

/** Python's `InterruptedError`: Interrupted by signal. */
export class InterruptedError extends OSError {
  static override readonly pythonQualname: string = 'InterruptedError';
}

/** Python's `IsADirectoryError`: Operation doesn't work on directories. */
export class IsADirectoryError extends OSError {
  static override readonly pythonQualname: string = 'IsADirectoryError';
}

/** Python's `NotADirectoryError`: Operation only works on directories. */
export class NotADirectoryError extends OSError {
  static override readonly pythonQualname: string = 'NotADirectoryError';
}

/** Python's `PermissionError`: Not enough permissions. */
export class PermissionError extends OSError {
  static override readonly pythonQualname: string = 'PermissionError';
}

/** Python's `ProcessLookupError`: Process not found. */
export class ProcessLookupError extends OSError {
  static override readonly pythonQualname: string = 'ProcessLookupError';
}

/** Python's `TimeoutError`: Timeout expired. */
export class TimeoutError extends OSError {
  static override readonly pythonQualname: string = 'TimeoutError';
}

/** Python's `ReferenceError`: Weak ref proxy used after referent went away. */
export class ReferenceError extends Exception {
  static override readonly pythonQualname: string = 'ReferenceError';
}

/** Python's `RuntimeError`: Unspecified run-time error. */
export class RuntimeError extends Exception {
  static override readonly pythonQualname: string = 'RuntimeError';
}

/** Python's `NotImplementedError`: Method or function hasn't been implemented yet. */
export class NotImplementedError extends RuntimeError {
  static override readonly pythonQualname: string = 'NotImplementedError';
}

/** Python's `RecursionError`: Recursion limit exceeded. */
export class RecursionError extends RuntimeError {
  static override readonly pythonQualname: string = 'RecursionError';
}

/** Python's `SyntaxError`: Invalid syntax. */
export class SyntaxError extends Exception {
  static override readonly pythonQualname: string = 'SyntaxError';
}

/** Python's `SystemError`: Internal error in the Python interpreter. */
export class SystemError extends Exception {
  static override readonly pythonQualname: string = 'SystemError';
}

/** Python's `TypeError`: Inappropriate argument type. */
export class TypeError extends Exception {
  static override readonly pythonQualname: string = 'TypeError';
}

/** Python's `ValueError`: Inappropriate argument value (of correct type). */
export class ValueError extends Exception {
  static override readonly pythonQualname: string = 'ValueError';
}

/** Python's `UnicodeError`: Unicode related error. */
export class UnicodeError extends ValueError {
  static override readonly pythonQualname: string = 'UnicodeError';
}
