/**
 * Helpers for the reliability tests: driving RabbitMQ faults with rabbitmqctl (closing
 * this process's own connections, stopping and starting the app), and a machine-wide lock
 * so that the one disruptive file (reliability-faults) never runs while another test run
 * talks to the shared broker.
 *
 * Closing connections is aimed at this process only (its connections are named
 * `celery-gen <pid>`), which RabbitMQ reports to the client exactly as
 * `close_all_connections` does (CONNECTION_FORCED), without breaking other runs' tests.
 * `stop_app` cannot be aimed: it runs only when no other `node --test` run is alive.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { BROKER_URL } from './broker.js';
import { takePidLock } from './pid-lock.js';

const run = promisify(execFile);
const RABBITMQCTL = process.env.CELERY_GEN_RABBITMQCTL ?? 'rabbitmqctl';

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run(RABBITMQCTL, args, { timeout: 60_000, encoding: 'utf8' });
  return stdout;
}

/** Why rabbitmqctl cannot drive faults here, or false when it can. */
export async function rabbitmqctlMissing(): Promise<string | false> {
  try {
    await rabbitmqctl('--quiet', 'list_connections', 'pid');
    return false;
  } catch (error) {
    return `rabbitmqctl cannot reach the broker (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); the fault tests need it on the broker's host`;
  }
}

/** Erlang pids of the broker connections whose client-given name contains `marker`. */
export async function connectionsNamed(marker: string): Promise<string[]> {
  const out = await rabbitmqctl('--quiet', 'list_connections', '--no-table-headers', 'pid', 'client_properties');
  const pids: string[] = [];
  for (const line of out.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    if (line.slice(tab).includes(`{"connection_name","${marker}`)) pids.push(line.slice(0, tab));
  }
  return pids;
}

/** Force-closes (CONNECTION_FORCED, as close_all_connections) every connection named `marker…`; returns how many. */
export async function forceCloseConnections(marker: string, reason = 'celery-gen reliability test'): Promise<number> {
  const pids = await connectionsNamed(marker);
  await Promise.all(pids.map((pid) => rabbitmqctl('close_connection', pid, reason).catch(() => undefined)));
  return pids.length;
}

/** Waits until an AMQP connection opens and a queue can be declared (RabbitMQ fully up). */
export async function waitForBroker(timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await amqp.connect(BROKER_URL);
      connection.on('error', () => undefined);
      const channel = await connection.createChannel();
      await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await connection.close();
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`RabbitMQ did not come back within ${timeoutMs} ms: ${String(last)}`);
}

/** Stops RabbitMQ's app for `downMs`, starts it again and waits until it serves. */
export async function restartBroker(downMs: number): Promise<void> {
  await rabbitmqctl('stop_app');
  try {
    await new Promise((r) => setTimeout(r, downMs));
  } finally {
    await rabbitmqctl('start_app');
    await rabbitmqctl('await_startup').catch(() => undefined);
    await waitForBroker();
  }
}

function ancestors(): Set<number> {
  const pids = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

/** Pids of `node --test` runs (and their test-file children) other than this one's, from /proc. */
export function otherTestRuns(): number[] {
  const mine = ancestors();
  const others: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // no /proc (not Linux): nothing to look at
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || mine.has(pid)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    if (!/(^|\/)node$/.test(argv[0] ?? '')) continue;
    if (argv.includes('--test') || argv.some((a) => a.endsWith('.test.ts'))) {
      // A test-file child of our own runner is not another run.
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (mine.has(parent)) continue;
      } catch {
        continue;
      }
      others.push(pid);
    }
  }
  return others;
}

const FAULT_LOCK = join(tmpdir(), 'celery-gen-broker-faults.lock');

/**
 * Takes the machine-wide fault lock (a pid file; a dead holder's lock is taken over), so
 * two fault runs never restart the broker under each other. Released on process exit.
 */
export async function holdFaultLock(timeoutMs: number): Promise<boolean> {
  return (await takePidLock(FAULT_LOCK, timeoutMs, 500)).taken;
}

/** Waits until no other test run is alive; false when one still is after `timeoutMs`. */
export async function waitForQuietMachine(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (otherTestRuns().length > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return true;
}
