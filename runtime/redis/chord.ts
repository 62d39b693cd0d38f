/**
 * Sending a chord from TypeScript, as Python's `chord(header)(body)` does with the Redis
 * result backend (captured 5.2.6, protocol.md §6.5): the header size goes to
 * `celery-taskset-meta-<group>.s` first, then every header task is published with the
 * `group` / `group_index` headers and the callback signature in `embed.chord`. Whichever
 * worker (Python or TS) finishes the last header task sends the callback.
 */
import { randomUUID } from 'node:crypto';
import type { Celery } from '../app/celery.js';
import { DEFAULT_QUEUE, resolveRoute } from '../client/routes.js';
import { CeleryGenError } from '../protocol/errors.js';
import { RedisResultTracker } from './app.js';
import { type ChordTask, chordUnsupported, type SignatureJson } from '../app/broker.js';
import type { RpcAsyncResult } from '../client/async-result.js';

export type { ChordTask } from '../app/broker.js';

/**
 * Publishes `header` as a chord whose callback gets the list of header results (in header
 * order) as its first argument. Resolves with the callback's result. Needs the Redis
 * result backend, as in Python (rpc:// cannot join a chord).
 */
export async function sendChord<R = unknown>(app: Celery, header: readonly ChordTask[], callback: ChordTask): Promise<RpcAsyncResult<R> & { readonly groupId: string }> {
  if (!/^rediss?:\/\//i.test(app.options.backend ?? 'rpc://')) {
    throw chordUnsupported();
  }
  if (header.length === 0) throw new CeleryGenError('CHORD_UNSUPPORTED', 'a chord needs at least one header task');
  const backend = app.redisBackend;
  const tracker = new RedisResultTracker(backend, app.logger, app.exceptions);
  const defaultQueue = app.options.defaultQueue ?? DEFAULT_QUEUE;
  const groupId = randomUUID();
  const callbackId = randomUUID();
  const callbackRoute = resolveRoute(callback.options ?? {}, callback.spec, defaultQueue);
  const signature: SignatureJson = {
    task: callback.name,
    args: [...(callback.args ?? [])],
    kwargs: { ...(callback.kwargs ?? {}) },
    options: {
      task_id: callbackId,
      reply_to: tracker.oid,
      ...(callback.options?.queue !== undefined || callback.spec?.options.queue !== undefined ? { queue: callbackRoute.queue } : {}),
      ...(callback.options?.priority !== undefined ? { priority: callback.options.priority } : {}),
    },
    subtask_type: null,
    immutable: false,
  };
  const result = tracker.track<R>(callbackId);
  await backend.setChordSize(groupId, header.length);
  for (const [index, task] of header.entries()) {
    const id = randomUUID();
    await app.publisher.publish(
      {
        id,
        task: task.name,
        args: task.args ?? [],
        kwargs: task.kwargs ?? {},
        replyTo: tracker.oid,
        origin: app.publisher.origin,
        group: groupId,
        groupIndex: index,
        embed: { chord: signature },
        ...(task.options?.priority !== undefined ? { priority: task.options.priority } : {}),
        argsReprStyle: task.spec ? 'tuple' : 'list',
      },
      resolveRoute(task.options ?? {}, task.spec, defaultQueue),
    );
  }
  return Object.assign(result, { groupId });
}
