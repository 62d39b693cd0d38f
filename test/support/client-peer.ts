/**
 * The usual shape of a "TS client → Python worker" test: inside a describe block, a real
 * Python worker consuming `queues` and a TypeScript app publishing to it. Both start before
 * the block's tests (after deleting what an interrupted run left in the queues) and stop
 * after them, and the queues are deleted again.
 */
import { after, before } from 'node:test';
import { Celery, type CeleryOptions, silentLogger } from 'celery-gen';
import { BROKER_URL, rawBroker } from './broker.js';
import { type PythonWorker, type PythonWorkerOptions, startPythonWorker } from './python.js';

export interface ClientPeer {
  /** Set once the block's before() has run. */
  readonly worker: PythonWorker;
  readonly app: Celery;
}

/** Registers the block's before/after hooks; `app` adds options to the rpc:// app (`defaultQueue`, `taskRoutes`). */
export function clientAndPythonWorker(queues: readonly string[], worker: PythonWorkerOptions = {}, app: Partial<CeleryOptions> = {}): ClientPeer {
  let started: PythonWorker | undefined;
  let client: Celery | undefined;
  before(async () => {
    await (await rawBroker()).close(queues);
    started = await startPythonWorker(queues.join(','), worker);
    client = new Celery({ broker: BROKER_URL, backend: 'rpc://', logger: silentLogger, ...app });
  });
  after(async () => {
    try {
      await client?.close();
      await started?.stop();
    } finally {
      await (await rawBroker()).close(queues);
    }
  });
  return {
    get worker() {
      return started!;
    },
    get app() {
      return client!;
    },
  };
}
