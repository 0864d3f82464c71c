/**
 * The cluster suite's Redis Cluster: three masters with one replica each, on
 * loopback, started beside the bench's single redis-server with the same
 * server arguments, and connected as service-kit's `connectRedis` connects a
 * service given REDIS_CLUSTER_NODES: an ioredis `Cluster` for session data
 * with SESSION_CONNECTION_OPTIONS on every node's connection, reads from
 * masters only and no offline queue; a second one for BullMQ, whose queue
 * keys share one hash tag (`{bull}`, as QUEUE_PREFIX is set on a cluster).
 */
import { type RedisCluster, startRedisCluster } from "@multisession/redis-server";
import { queueClusterOptions, sessionClusterOptions } from "@multisession/service-kit";
import {
  CLEANUP_QUEUE_NAME,
  SESSION_CONNECTION_OPTIONS,
  SessionStore,
  type SessionStoreOptions,
} from "@multisession/session-core";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";

export const CLUSTER_MASTERS = 3;
export const CLUSTER_REPLICAS = 1;
/** QUEUE_PREFIX on a cluster: every key of the queue in one slot. */
export const CLUSTER_QUEUE_PREFIX = "{bull}";

export interface ClusterContext {
  cluster: RedisCluster;
  /** Session data connection, as a service has it on a cluster. */
  redis: Cluster;
  queue: Queue;
  /** `host:port,…` of every node: REDIS_CLUSTER_NODES, and what sweep-child takes. */
  nodesSpec: string;
  store(options?: Partial<SessionStoreOptions>): SessionStore;
  /** FLUSHALL on every master (the replicas follow). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function openClusterContext(serverArgs: string[]): Promise<ClusterContext> {
  const cluster = await startRedisCluster({ masters: CLUSTER_MASTERS, replicas: CLUSTER_REPLICAS, args: serverArgs });
  try {
    const redis = new Cluster(cluster.nodes, sessionClusterOptions(SESSION_CONNECTION_OPTIONS.commandTimeout));
    const queueConnection = new Cluster(cluster.nodes, queueClusterOptions());
    // Ready: the clients know the slots (the session one has no offline queue; flush asks the other for its masters).
    await Promise.all(
      [redis, queueConnection].map(
        (client) =>
          new Promise((resolve, reject) => {
            client.once("ready", resolve);
            client.once("error", reject);
          }),
      ),
    );
    const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: CLUSTER_QUEUE_PREFIX });
    return {
      cluster,
      redis,
      queue,
      nodesSpec: cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(","),
      store: (options = {}) => new SessionStore({ redis, queue, ...options }),
      // On the BullMQ connection's nodes, which have no command timeout: emptying a million keys can take seconds.
      flush: async () => {
        await Promise.all(queueConnection.nodes("master").map((node) => node.flushall()));
      },
      async close() {
        await queue.close();
        await Promise.all([redis.quit(), queueConnection.quit()]);
        await cluster.stop();
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
