/**
 * Starts a private Redis Cluster on loopback: `masters` redis-server processes
 * from the PATH, each with `replicas` replicas, joined by
 * `redis-cli --cluster create`, which splits the 16384 slots evenly between
 * the masters and gives each master its replicas. Tests use it to prove that
 * every command touches one slot, and to fail masters over.
 *
 * Each node keeps its cluster state (`nodes.conf`) in a fresh temp dir that
 * `stop` removes, so no run ever sees another's cluster. Each node's cluster
 * bus gets a free port of its own (`--cluster-port`), rather than port+10000,
 * which may be taken or past 65535. Ready means every node reports
 * `cluster_state:ok` and knows every other node, and every replica's link to
 * its master is up with its first sync done.
 *
 * For failover tests the cluster can kill a node (SIGKILL, as a crash),
 * pause one (SIGSTOP: it neither reads nor answers, as a frozen host) and
 * resume it, and tells which node is currently whose replica.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findFreePort } from "./free-port.js";
import { type RedisServer, RedisServerStartError, startRedisServer } from "./start-redis-server.js";

export interface RedisClusterOptions {
  /**
   * How many master nodes; Redis Cluster needs at least 3.
   * @default 3
   */
  masters?: number;
  /**
   * How many replicas each master gets.
   * @default 0
   */
  replicas?: number;
  /**
   * `cluster-node-timeout`: how long a node may be unreachable before the
   * others count it as failed and, for a master, promote one of its replicas.
   * @default 15000 (Redis's own default)
   */
  nodeTimeoutMs?: number;
  /** Extra `redis-server` arguments for every node, e.g. `["--cluster-replica-validity-factor", "0"]`. */
  args?: string[];
  /**
   * How long to wait for the cluster to be ready.
   * @default 10000
   */
  readyTimeoutMs?: number;
}

export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** The node's cluster id (`CLUSTER MYID`). */
  readonly id: string;
}

export interface RedisClusterShard {
  master: RedisClusterNode;
  replicas: RedisClusterNode[];
}

export interface RedisCluster {
  /** Every node's address, masters and replicas, for ioredis `new Cluster(nodes)`. */
  readonly nodes: { host: string; port: number }[];
  /**
   * The masters that are not marked failed, each with its replicas, as a
   * live node sees the cluster now (so after a failover, the promoted replica
   * is a master).
   */
  shards(): Promise<RedisClusterShard[]>;
  /** The node at `port` (e.g. `redisClient.options.port`). */
  node(port: number): RedisClusterNode;
  /** SIGKILL, as a crash: no shutdown, no final save. Resolves once the process is gone. */
  kill(node: { port: number }): Promise<void>;
  /** SIGSTOP: the node stops reading its sockets and answering, until `resume`. */
  pause(node: { port: number }): void;
  /** SIGCONT after `pause`. */
  resume(node: { port: number }): void;
  /** Stops every node (resuming paused ones first) and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startRedisCluster({
  masters = 3,
  replicas = 0,
  nodeTimeoutMs = 15_000,
  args: extraArgs = [],
  readyTimeoutMs = 10_000,
}: RedisClusterOptions = {}): Promise<RedisCluster> {
  if (!Number.isSafeInteger(masters) || masters < 3) {
    throw new RangeError(`masters must be an integer of at least 3 (received ${masters})`);
  }
  if (!Number.isSafeInteger(replicas) || replicas < 0 || replicas > 5) {
    throw new RangeError(`replicas must be an integer from 0 to 5 (received ${replicas})`);
  }
  if (!Number.isSafeInteger(nodeTimeoutMs) || nodeTimeoutMs < 100) {
    throw new RangeError(`nodeTimeoutMs must be an integer of at least 100 (received ${nodeTimeoutMs})`);
  }
  const dirs: string[] = [];
  const servers: RedisServer[] = [];
  const paused = new Set<number>();
  const stop = async () => {
    for (const pid of paused) signal(pid, "SIGCONT");
    paused.clear();
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };

  const nodes: RedisClusterNode[] = [];
  try {
    // One at a time, so that no node probes a port another is about to bind.
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const dir = await mkdtemp(join(tmpdir(), "redis-cluster-node-"));
      dirs.push(dir);
      const args = ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf")];
      args.push("--cluster-node-timeout", String(nodeTimeoutMs));
      // `--dir` through args, not the `dir` option, which would turn on AOF.
      args.push("--cluster-port", String(await findFreePort()), "--dir", dir, ...extraArgs);
      servers.push(await startRedisServer({ args }));
    }
    for (const server of servers) {
      const id = (await redisCli(["-h", server.host, "-p", String(server.port), "cluster", "myid"])).trim();
      nodes.push({ host: server.host, port: server.port, pid: server.pid, id });
    }
    const addresses = servers.map((server) => `${server.host}:${server.port}`);
    await redisCli(["--cluster", "create", ...addresses, "--cluster-replicas", String(replicas), "--cluster-yes"]);
    await waitUntilReady(nodes, replicas, Date.now() + readyTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }

  const nodeAt = (port: number): RedisClusterNode => {
    const found = nodes.find((node) => node.port === port);
    if (!found) throw new RangeError(`no node of this cluster listens on port ${port}`);
    return found;
  };
  const killed = new Set<number>();
  return {
    nodes: nodes.map(({ host, port }) => ({ host, port })),
    node: nodeAt,
    async shards() {
      const asked = nodes.find((node) => !killed.has(node.pid) && !paused.has(node.pid));
      if (!asked) throw new Error("every node is killed or paused: none to ask");
      return shardsOf(await clusterNodes(asked), nodeAt);
    },
    async kill({ port }) {
      const node = nodeAt(port);
      killed.add(node.pid);
      paused.delete(node.pid);
      signal(node.pid, "SIGKILL");
      await servers[nodes.indexOf(node)]?.stop();
    },
    pause({ port }) {
      const node = nodeAt(port);
      signal(node.pid, "SIGSTOP");
      paused.add(node.pid);
    },
    resume({ port }) {
      const node = nodeAt(port);
      paused.delete(node.pid);
      signal(node.pid, "SIGCONT");
    },
    stop,
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function clusterNodes(node: { host: string; port: number }): Promise<string> {
  return redisCli(["-h", node.host, "-p", String(node.port), "cluster", "nodes"]);
}

/**
 * Reads `CLUSTER NODES` (one line per node: id, address, flags, master id,
 * ...) into live masters and their replicas.
 */
function shardsOf(text: string, nodeAt: (port: number) => RedisClusterNode): RedisClusterShard[] {
  const lines = text
    .trim()
    .split("\n")
    .map((line) => line.trim().split(" "));
  const parsed = lines.map(([id = "", address = "", flags = "", masterId = ""]) => ({
    id,
    port: Number(address.split("@")[0]?.split(":").at(-1)),
    flags: flags.split(","),
    masterId,
  }));
  const live = (flags: string[]) => !flags.includes("fail") && !flags.includes("fail?");
  return parsed
    .filter((node) => node.flags.includes("master") && live(node.flags))
    .map((master) => ({
      master: nodeAt(master.port),
      replicas: parsed
        .filter((node) => node.flags.includes("slave") && node.masterId === master.id)
        .map((node) => nodeAt(node.port)),
    }));
}

async function waitUntilReady(nodes: RedisClusterNode[], replicas: number, deadline: number): Promise<void> {
  let problem = "";
  const ask = (node: RedisClusterNode, ...command: string[]) =>
    redisCli(["-h", node.host, "-p", String(node.port), ...command]);
  const ready = (text: string) =>
    /^cluster_state:ok\r?$/m.test(text) && new RegExp(`^cluster_known_nodes:${nodes.length}\\r?$`, "m").test(text);
  const synced = (text: string) =>
    !/^role:slave\r?$/m.test(text) ||
    (/^master_link_status:up\r?$/m.test(text) && /^master_sync_in_progress:0\r?$/m.test(text));
  while (Date.now() < deadline) {
    const infos = await Promise.all(nodes.map((node) => ask(node, "cluster", "info")));
    problem = infos.find((text) => !ready(text)) ?? "";
    if (!problem) {
      const replications = await Promise.all(nodes.map((node) => ask(node, "info", "replication")));
      const replicaCount = replications.filter((text) => /^role:slave\r?$/m.test(text)).length;
      problem = replications.find((text) => !synced(text)) ?? "";
      if (!problem && replicaCount !== nodes.length - nodes.length / (1 + replicas)) {
        problem = `${replicaCount} replicas so far`;
      }
      if (!problem) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new RedisServerStartError(`redis cluster not ready in time; a node reports: ${problem.trim()}`);
}

async function redisCli(args: string[]): Promise<string> {
  try {
    return (await run("redis-cli", args, { timeout: 15_000 })).stdout;
  } catch (error) {
    const { stdout = "", stderr = "", message } = error as { stdout?: string; stderr?: string; message: string };
    throw new RedisServerStartError(`redis-cli ${args.join(" ")} failed: ${`${stdout}${stderr}`.trim() || message}`);
  }
}
