/**
 * Starts a private Redis Cluster on loopback: `masters` redis-server processes
 * from the PATH (no replicas), joined by `redis-cli --cluster create`, which
 * splits the 16384 slots evenly between them. Tests use it to prove that
 * every command touches one slot.
 *
 * Each node keeps its cluster state (`nodes.conf`) in a fresh temp dir that
 * `stop` removes, so no run ever sees another's cluster. Each node's cluster
 * bus gets a free port of its own (`--cluster-port`), rather than port+10000,
 * which may be taken or past 65535. Ready means every node reports
 * `cluster_state:ok` and knows every other node.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findFreePort } from "./free-port.js";
import { type RedisServer, RedisServerStartError, startRedisServer } from "./start-redis-server.js";

export interface RedisClusterOptions {
  /** How many master nodes; Redis Cluster needs at least 3. */
  masters?: number;
  /** How long to wait for every node to report `cluster_state:ok`. */
  readyTimeoutMs?: number;
}

export interface RedisCluster {
  /** Every node's address, for ioredis `new Cluster(nodes)`. */
  readonly nodes: { host: string; port: number }[];
  /** Stops every node and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startRedisCluster({
  masters = 3,
  readyTimeoutMs = 10_000,
}: RedisClusterOptions = {}): Promise<RedisCluster> {
  if (!Number.isSafeInteger(masters) || masters < 3) {
    throw new RangeError(`masters must be an integer of at least 3 (received ${masters})`);
  }
  const dirs: string[] = [];
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };

  try {
    // One at a time, so that no node probes a port another is about to bind.
    for (let i = 0; i < masters; i++) {
      const dir = await mkdtemp(join(tmpdir(), "redis-cluster-node-"));
      dirs.push(dir);
      const args = ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf")];
      // `--dir` through args, not the `dir` option, which would turn on AOF.
      args.push("--cluster-port", String(await findFreePort()), "--dir", dir);
      servers.push(await startRedisServer({ args }));
    }
    const addresses = servers.map((server) => `${server.host}:${server.port}`);
    await redisCli(["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    await waitUntilReady(servers, Date.now() + readyTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: servers.map(({ host, port }) => ({ host, port })), stop };
}

async function waitUntilReady(servers: RedisServer[], deadline: number): Promise<void> {
  let info = "";
  while (Date.now() < deadline) {
    const infos = await Promise.all(
      servers.map((server) => redisCli(["-h", server.host, "-p", String(server.port), "cluster", "info"])),
    );
    const ready = (text: string) =>
      /^cluster_state:ok\r?$/m.test(text) && new RegExp(`^cluster_known_nodes:${servers.length}\\r?$`, "m").test(text);
    if (infos.every(ready)) return;
    info = infos.find((text) => !ready(text)) ?? "";
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new RedisServerStartError(`redis cluster not ready in time; a node reports: ${info.trim()}`);
}

async function redisCli(args: string[]): Promise<string> {
  try {
    return (await run("redis-cli", args, { timeout: 15_000 })).stdout;
  } catch (error) {
    const { stdout = "", stderr = "", message } = error as { stdout?: string; stderr?: string; message: string };
    throw new RedisServerStartError(`redis-cli ${args.join(" ")} failed: ${`${stdout}${stderr}`.trim() || message}`);
  }
}
