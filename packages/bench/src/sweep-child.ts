/**
 * One replica of the worker's sweeper in a process of its own, so its peak
 * RSS can be read and several replicas can sweep at once, as separate
 * worker processes do:
 * `node sweep-child.js <target> <batchSize> <concurrency> <dutyPercent> <slotGroups> <tick>`,
 * where `<target>` is a redis:// URL or `cluster:<host:port>,…` (REDIS_CLUSTER_NODES).
 *
 * It connects as the worker does (service-kit's connectRedis), prints
 * `{"started":true}` once connected, waits for a `go` line on stdin, runs one
 * `sweep({ tick })` through the group leases (replicas given the same tick
 * split the slot groups between them) and prints one JSON line with its
 * summary and peak RSS.
 */
import { createInterface } from "node:readline";
import { queueClusterOptions, sessionClusterOptions } from "@multisession/service-kit";
import { CLEANUP_QUEUE_NAME, SESSION_CONNECTION_OPTIONS, SessionStore } from "@multisession/session-core";
import { createMetrics, createSweeper, SweepLease } from "@multisession/worker";
import { Queue } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { pino } from "pino";
import { CLUSTER_QUEUE_PREFIX } from "./cluster-context.js";

const [target = "", batch, concurrency, duty, groups, tick] = process.argv.slice(2);
const logger = pino({ level: "silent" });
const clusterNodes = target.startsWith("cluster:")
  ? target
      .slice("cluster:".length)
      .split(",")
      .map((node) => {
        const [host, port] = node.split(":");
        return { host: host as string, port: Number(port) };
      })
  : null;
const redis = clusterNodes
  ? new Cluster(clusterNodes, sessionClusterOptions(SESSION_CONNECTION_OPTIONS.commandTimeout))
  : new Redis(target, { ...SESSION_CONNECTION_OPTIONS });
const queueConnection = clusterNodes
  ? new Cluster(clusterNodes, queueClusterOptions())
  : new Redis(target, { maxRetriesPerRequest: null });
const queue = new Queue(CLEANUP_QUEUE_NAME, {
  connection: queueConnection,
  ...(clusterNodes ? { prefix: CLUSTER_QUEUE_PREFIX } : {}),
});
const store = new SessionStore({ redis, queue, logger });
const metrics = createMetrics(queue);
const lease = new SweepLease({ redis, prefix: "", groups: Number(groups), leaseMs: 60_000, logger });
const sweeper = createSweeper({
  store,
  lease,
  cron: "0 0 1 1 *",
  batchSize: Number(batch),
  concurrency: Number(concurrency),
  dutyPercent: Number(duty),
  budgetMs: 3_600_000,
  logger,
  metrics,
});

// A cluster client has no offline queue here (as in the worker): ready means it knows the slots.
if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
await redis.ping();
const go = new Promise<void>((resolve) => {
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() === "go") resolve();
  });
});
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
await go;
const baseRss = process.memoryUsage().rss;
let peakRss = baseRss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const summary = await sweeper.sweep({ tick });
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
process.stdout.write(`${JSON.stringify({ ...summary, baseRssMb: baseRss / 2 ** 20, peakRssMb: peakRss / 2 ** 20 })}\n`);
await queue.close();
await Promise.all([redis.quit(), queueConnection.quit()]);
process.exit(0);
