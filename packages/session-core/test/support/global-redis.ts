/**
 * The two Redis topologies of a whole test run, started once: one private
 * redis-server (`inject("redisUrl")`) and one loopback Redis Cluster of 3
 * masters with a replica each (`inject("clusterNodes")`). Tests keep apart by
 * key prefix on both, so every file shares them instead of starting its own.
 */
import { startRedisCluster, startRedisServer } from "@multisession/redis-server";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    clusterNodes: { host: string; port: number }[];
  }
}

export default async function setup(project: TestProject) {
  // One after the other: both probe for free ports before binding them.
  const server = await startRedisServer();
  const cluster = await startRedisCluster({
    masters: 3,
    replicas: 1,
    // No wait before a replica's first sync (Redis waits 5 s by default for more replicas to share it).
    args: ["--repl-diskless-sync-delay", "0"],
    // A loaded CI machine may take longer than the default 10 s; a failed start fails the whole run.
    readyTimeoutMs: 30_000,
  }).catch(async (error) => {
    await server.stop();
    throw error;
  });
  project.provide("redisUrl", server.url);
  project.provide("clusterNodes", cluster.nodes);
  return async () => {
    await Promise.all([cluster.stop(), server.stop()]);
  };
}
