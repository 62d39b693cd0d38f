/**
 * Test helpers for the real RabbitMQ: the broker URL, unique queue names per test file,
 * and a raw amqplib connection for reading back and cleaning up.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';

export const BROKER_URL = process.env.CELERY_GEN_BROKER ?? 'amqp://guest:guest@127.0.0.1:5672//';

let brokerProbe: Promise<string | false> | undefined;

/**
 * Why broker tests cannot run here (a reason for `{ skip }`), or false when RabbitMQ
 * answers. Throws instead when CELERY_GEN_REQUIRE_PEERS=1 (CI): a missing broker fails the run.
 */
export async function brokerMissing(): Promise<string | false> {
  brokerProbe ??= amqp.connect(BROKER_URL).then(
    async (connection) => {
      await connection.close();
      return false as const;
    },
    (error: unknown) =>
      `RabbitMQ is not reachable at ${BROKER_URL.replace(/:[^:@/]*@/, ':***@')} (${error instanceof Error ? error.message : String(error)}); start it, e.g. service rabbitmq-server start`,
  );
  const reason = await brokerProbe;
  if (reason && process.env.CELERY_GEN_REQUIRE_PEERS === '1') throw new Error(`${reason}; CELERY_GEN_REQUIRE_PEERS=1 requires the broker`);
  return reason;
}

/** `cg_test_<file>_<random>`: no two test files (or runs) share a queue. */
export function uniqueQueue(file: string): string {
  return `cg_test_${file}_${randomBytes(4).toString('hex')}`;
}

export interface RawBroker {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  /** Deletes the queues (ignoring ones already gone) and closes the connection. */
  close(queues?: readonly string[]): Promise<void>;
}

export async function rawBroker(): Promise<RawBroker> {
  const connection = await amqp.connect(BROKER_URL, { noDelay: true });
  connection.on('error', () => undefined); // a deleted-queue race must not crash the test process
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  return {
    connection,
    channel,
    async close(queues = []) {
      for (const queue of queues) {
        const ch = await connection.createChannel();
        ch.on('error', () => undefined);
        await ch.deleteQueue(queue).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
      await connection.close().catch(() => undefined);
    },
  };
}

/** Ready and unacked message counts of a queue (via a passive declare). */
export async function queueCounts(broker: RawBroker, queue: string): Promise<{ messages: number; consumers: number }> {
  const ch = await broker.connection.createChannel();
  ch.on('error', () => undefined);
  try {
    const ok = await ch.checkQueue(queue);
    return { messages: ok.messageCount, consumers: ok.consumerCount };
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>> | undefined;
}

/** A runtime Logger that records every line, for asserting what the worker reported. */
export function memoryLogger(): { logger: import('celery-gen').Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, fields?: Readonly<Record<string, unknown>>) => {
    lines.push({ level, message, fields });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}
