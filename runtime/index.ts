/**
 * celery-gen's runtime: what application code and generated modules import.
 */
export { Celery, type CeleryOptions } from './celery.js';
export { bindTask, implementTask } from './bind.js';
export type {
  ApplyOptions,
  AsyncResult,
  ClientOf,
  GetOptions,
  TaskClient,
  TaskContext,
  TaskImplementation,
  TaskState,
  Worker,
  WorkerOptions,
} from './api.js';
export { defineTask } from './spec.js';
export type { ArgsOf, Awaitable, JsonValue, KwargsOf, ParamKind, ParamSpec, ResultOf, TaskOptions, TaskSpec, WireType } from './spec.js';
export { ArgumentError, CeleryGenError, ProtocolError, TaskError, TimeoutError, type ProtocolErrorCode } from './errors.js';
// Python's builtin exceptions as a namespace: `builtins.TypeError` never shadows JavaScript's TypeError.
export * as builtins from './protocol/python-builtins.js';
export type { PythonExceptionClass } from './client/exception-registry.js';
export { EXCEPTION_STATES, READY_STATES, TASK_STATES, type ResultMeta, type TaskRequest } from './protocol.js';
export { consoleLogger, silentLogger, type LogFields, type Logger, type LogLevel } from './logger.js';
export { Transport, TransportError, backoffDelay, redactUrl, type ReconnectOptions, type TlsOptions, type TransportEvents } from './transport.js';
export { RpcAsyncResult, type StateListener } from './results.js';
export { currentTask } from './context.js';
export { sendChord, type ChordTask } from './redis-chord.js';
export { RedisTransportError } from './redis-connection.js';
export {
  applySignature,
  chain,
  chord,
  errback,
  group,
  immutable,
  signature,
  step,
  Chain,
  Chord,
  Group,
  GroupResult,
  type CanvasApplyOptions,
  type Signature,
  type SignatureOptions,
  type Step,
} from './canvas.js';
export { MaxRetriesExceededError, Retry, type RetryOptions } from './retry.js';
export { SoftTimeLimitExceeded, TimeLimitExceeded } from './time-limit.js';
