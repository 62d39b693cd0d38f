/**
 * The project's shared folder (test captures, the three-node cluster scripts) and the
 * cluster itself: rabbit2/3/4@localhost on 127.0.0.1:5673-5675, started and stopped with
 * the scripts of shared/cluster/ (see shared/cluster.md). They never touch the main node.
 *
 * Where shared/ is: $CELERY_GEN_CLUSTER_SCRIPTS (the cluster folder itself) wins; otherwise
 * the first `shared/` next to this checkout or any folder above it, or above the main
 * checkout when this is a git worktree (a worktree under wt/<branch> sits two levels deeper
 * than the main checkout, so a fixed `../shared` would miss it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function ancestors(start: string): string[] {
  const out: string[] = [];
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    out.push(dir);
    if (dirname(dir) === dir) return out;
  }
}

function gitMainCheckout(): string | undefined {
  try {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return common ? dirname(common) : undefined;
  } catch {
    return undefined;
  }
}

/** The shared folder holding `relative` (e.g. 'cluster/start-cluster.sh'), or undefined. */
export function findShared(relative: string): string | undefined {
  const main = gitMainCheckout();
  for (const dir of [...ancestors(REPO), ...(main ? ancestors(main) : [])]) {
    const candidate = join(dir, 'shared');
    if (existsSync(join(candidate, relative))) return candidate;
  }
  return undefined;
}

/** The folder with start-cluster.sh, node.sh and stop-cluster.sh, or undefined. */
export function clusterScripts(): string | undefined {
  const override = process.env.CELERY_GEN_CLUSTER_SCRIPTS;
  if (override) return existsSync(join(override, 'start-cluster.sh')) ? resolve(override) : undefined;
  const shared = findShared('cluster/start-cluster.sh');
  return shared ? join(shared, 'cluster') : undefined;
}

/** Why the cluster tests cannot run here, or false. CELERY_GEN_REQUIRE_PEERS=1 (CI) turns a reason into a failure. */
export function clusterMissing(): string | false {
  let reason: string | false = false;
  if (!clusterScripts()) reason = 'the cluster scripts (shared/cluster/start-cluster.sh) were not found; set CELERY_GEN_CLUSTER_SCRIPTS to their folder';
  else if (process.getuid?.() !== 0) reason = 'the cluster scripts need root (the nodes run as the rabbitmq user)';
  if (reason && process.env.CELERY_GEN_REQUIRE_PEERS === '1') throw new Error(`${reason}; CELERY_GEN_REQUIRE_PEERS=1 requires the cluster tests to run`);
  return reason;
}

export const CLUSTER_NODES = [2, 3, 4] as const;
export type ClusterNode = (typeof CLUSTER_NODES)[number];

export function nodeName(node: ClusterNode): string {
  return `rabbit${node}@localhost`;
}

export function nodeUrl(node: ClusterNode): string {
  return `amqp://guest:guest@127.0.0.1:${5671 + node}//`;
}

async function script(name: string, ...args: string[]): Promise<string> {
  const dir = clusterScripts();
  if (!dir) throw new Error('cluster scripts not found');
  const { stdout, stderr } = await run(join(dir, name), args, { timeout: 180_000, encoding: 'utf8' });
  return `${stdout}${stderr}`;
}

/**
 * A brand-new three-node cluster (about 20-40 s). The scripts give a booting node 5 s to
 * write its PID file; on a busy machine that is too short: then this waits for the nodes'
 * AMQP ports and runs start-cluster.sh again, which finds them running and joins them.
 */
export async function startCluster(): Promise<string> {
  try {
    return await script('start-cluster.sh', '--fresh');
  } catch (error) {
    for (const node of CLUSTER_NODES) await waitForPort(5671 + node, 90_000);
    return `${String(error).split('\n')[0]} (slow boot); then: ${await script('start-cluster.sh')}`;
  }
}

/** Stops the three nodes and deletes their data. */
export function stopCluster(): Promise<string> {
  return script('stop-cluster.sh', '--wipe');
}

export function killNode(node: ClusterNode): Promise<string> {
  return script('node.sh', 'kill9', String(node));
}

/**
 * Starts a stopped or killed node again. node.sh gives a booting node 5 s to write its PID
 * file; on a busy machine that is too short and it reports a failure while the node still
 * boots, so then this waits for the node's AMQP port itself (up to 90 s).
 */
export async function startNode(node: ClusterNode): Promise<string> {
  try {
    return await script('node.sh', 'start', String(node));
  } catch (error) {
    await waitForPort(5671 + node, 90_000);
    return `node.sh reported a failure, but rabbit${node}@localhost came up: ${String(error).split('\n')[0]}`;
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** rabbitmqctl against one cluster node (never the main node). */
export async function clusterCtl(node: ClusterNode, ...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-n', nodeName(node), ...args], { timeout: 60_000, encoding: 'utf8' });
  return stdout;
}

/** The node currently leading quorum queue `queue`, asked through `via`. */
export async function quorumLeader(queue: string, via: ClusterNode): Promise<ClusterNode> {
  const out = await clusterCtl(via, '-q', 'list_queues', '--no-table-headers', 'name', 'leader');
  for (const line of out.split('\n')) {
    const [name, leader] = line.split('\t');
    if (name === queue && leader) {
      const node = CLUSTER_NODES.find((n) => leader.trim() === nodeName(n));
      if (node) return node;
    }
  }
  throw new Error(`no leader found for ${queue}: ${out}`);
}
