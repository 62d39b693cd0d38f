/**
 * celery-gen's runtime: what application code and generated modules import.
 */
export { Celery, type CeleryOptions } from './app/celery.js';
export { bindTask, implementTask } from './client/bind.js';
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
} from './app/api.js';
export { defineTask } from './protocol/spec.js';
export type { ArgsOf, Awaitable, JsonValue, KwargsOf, ParamKind, ParamSpec, ResultOf, TaskOptions, TaskRouteOptions, TaskSpec, WireType } from './protocol/spec.js';
export { compileRoutes, globToRegExp, routeTask, type RouteDestination, type RouteMap, type RouterFunction, type TaskRouter, type TaskRoutes } from './client/routes.js';
export { ArgumentError, CeleryGenError, ProtocolError, TaskError, TimeoutError, type ProtocolErrorCode } from './protocol/errors.js';
// Python's builtin exceptions as a namespace: `builtins.TypeError` never shadows JavaScript's TypeError.
export * as builtins from './protocol/python-builtins.js';
export type { PythonExceptionClass } from './client/exception-registry.js';
export { EXCEPTION_STATES, READY_STATES, TASK_STATES, type ResultMeta, type TaskRequest } from './protocol/message.js';
export { consoleLogger, loggerAtLevel, silentLogger, type LogFields, type Logger, type LogLevel, type LogLevelName } from './observability/logger.js';
export { Transport, TransportError, backoffDelay, redactUrl, type ReconnectOptions, type TlsOptions, type TransportEvents } from './amqp/transport.js';
export { RpcAsyncResult, type StateListener } from './amqp/rpc-backend.js';
export { currentTask } from './worker/context.js';
export type { ExchangeType, QueueType } from './protocol/delayed-delivery.js';
export { sendChord, type ChordTask } from './redis/chord.js';
export { RedisTransportError } from './redis/connection.js';
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
} from './client/canvas.js';
export { MaxRetriesExceededError, Retry, type RetryOptions } from './worker/retry.js';
export { SoftTimeLimitExceeded, TimeLimitExceeded } from './worker/time-limit.js';
