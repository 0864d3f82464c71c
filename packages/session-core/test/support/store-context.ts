/**
 * A SessionStore on one of the run's two private Redis topologies (see
 * global-redis.ts), under a prefix of its own, with its own BullMQ queue
 * prefix, so tests never see each other's keys or jobs.
 *
 * `forEachTopology` runs one suite body on a single redis-server and on the
 * 3+3 Redis Cluster, so the same assertions hold on both: test names start
 * with "single node" or "cluster 3+3". The store never learns which it got,
 * and neither do the test bodies: `ctx.redis` is an ioredis `Redis` or
 * `Cluster`, and both answer the single-key commands the suites inspect with.
 */
import { Queue } from "bullmq";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { describe, inject } from "vitest";
import { getCurrentSuite } from "vitest/suite";
import { CLEANUP_QUEUE_NAME, type SessionLogger, SessionStore, type SessionStoreOptions } from "../../src/index.js";

let counter = 0;

export const TOPOLOGIES = ["single node", "cluster 3+3"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/**
 * Declares `body`'s tests once per topology, each group named after its
 * topology. The two groups run side by side, each its tests in order (each
 * has its own `let ctx`): the suites wait out many timeouts, and those waits
 * then overlap instead of doubling the run.
 */
export function forEachTopology(body: (topology: Topology) => void): void {
  describe.each(TOPOLOGIES)("%s", (topology) => {
    // On the group alone: its tests inherit `concurrent` from the group's options, not from this flag.
    const group = getCurrentSuite().suite;
    if (!group) throw new Error("forEachTopology found no describe() group to run side by side");
    group.concurrent = true;
    body(topology);
  });
}

export interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

export interface StoreContext {
  topology: Topology;
  store: SessionStore;
  redis: Redis | Cluster;
  queue: Queue;
  prefix: string;
  logs: LogLine[];
  /** Another store on its own connection, same prefix and queue: a second API server. */
  another(options?: Partial<SessionStoreOptions>): SessionStore;
  close(): Promise<void>;
}

export function redisUrl(): string {
  return inject("redisUrl");
}

export function newRedis(): Redis {
  return new Redis(redisUrl(), { lazyConnect: false });
}

/** A client of `topology` with `options` for each of its connections. */
export function connect(topology: Topology, options: RedisOptions = {}): Redis | Cluster {
  return topology === "single node"
    ? new Redis(redisUrl(), options)
    : new Cluster(inject("clusterNodes"), { redisOptions: options });
}

export async function openStore(
  options: Partial<SessionStoreOptions> = {},
  topology: Topology = "single node",
): Promise<StoreContext> {
  const id = `${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `test-${id}:`;
  const logs: LogLine[] = [];
  const logger: SessionLogger = {
    debug: (obj, msg) => logs.push({ level: "debug", obj, msg }),
    info: (obj, msg) => logs.push({ level: "info", obj, msg }),
    warn: (obj, msg) => logs.push({ level: "warn", obj, msg }),
    error: (obj, msg) => logs.push({ level: "error", obj, msg }),
  };
  const newClient = () => connect(topology, { lazyConnect: false });
  const redis = newClient();
  const queueConnection = connect(topology, { maxRetriesPerRequest: null });
  // The braces keep all of the queue's keys in one slot, as BullMQ needs on a cluster.
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: `{bull-${id}}` });
  const extra: (Redis | Cluster)[] = [];
  const store = new SessionStore({ redis, queue, prefix, logger, ...options });
  return {
    topology,
    store,
    redis,
    queue,
    prefix,
    logs,
    another(more = {}) {
      const client = newClient();
      extra.push(client);
      return new SessionStore({ redis: client, queue, prefix, logger, ...options, ...more });
    },
    async close() {
      await deleteKeys(redis, `${prefix}*`);
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await queueConnection.quit();
      await Promise.all([redis, ...extra].map((client) => client.quit()));
    },
  };
}

/** Deletes every key matching `pattern`: on a cluster, each master's own. */
async function deleteKeys(client: Redis | Cluster, pattern: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  await Promise.all(
    nodes.map(async (node) => {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
        cursor = next;
        // One key per command: a node refuses a multi-key command across slots.
        const replies =
          keys.length > 0 ? await keys.reduce((batch, key) => batch.unlink(key), node.pipeline()).exec() : [];
        const failed = replies?.find(([error]) => error);
        if (failed) throw failed[0];
      } while (cursor !== "0");
    }),
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
