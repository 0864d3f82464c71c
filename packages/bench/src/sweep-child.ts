/**
 * Runs one sweep of the worker's sweeper in a process of its own, so its
 * peak RSS can be read, and prints one JSON line with the result. Used by
 * the sweeper and latency suites: `node sweep-child.js <redisUrl> <batchSize> <concurrency> <dutyPercent>`.
 */
import { CLEANUP_QUEUE_NAME, SESSION_CONNECTION_OPTIONS, SessionStore } from "@multisession/session-core";
import { createMetrics } from "@multisession/worker/dist/metrics.js";
import { SweepLease } from "@multisession/worker/dist/sweeper/lease.js";
import { createSweeper } from "@multisession/worker/dist/sweeper/sweeper.js";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";

const [url, batch, concurrency, duty] = process.argv.slice(2);
const logger = pino({ level: "silent" });
// As the worker connects (service-kit's connectRedis).
const redis = new Redis(url as string, { ...SESSION_CONNECTION_OPTIONS });
const queueConnection = new Redis(url as string, { maxRetriesPerRequest: null });
const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection });
const store = new SessionStore({ redis, queue, logger });
const metrics = createMetrics(queue);
const lease = new SweepLease({ redis, prefix: "", leaseMs: 60_000, logger });
const sweeper = createSweeper({
  store,
  lease,
  cron: "0 0 1 1 *",
  batchSize: Number(batch),
  concurrency: Number(concurrency),
  dutyPercent: Number(duty),
  budgetMs: 3_600_000,
  leaseMs: 60_000,
  logger,
  metrics,
});

await redis.ping();
const baseRss = process.memoryUsage().rss;
let peakRss = baseRss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
const summary = await sweeper.sweep();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
process.stdout.write(`${JSON.stringify({ ...summary, baseRssMb: baseRss / 2 ** 20, peakRssMb: peakRss / 2 ** 20 })}\n`);
await queue.close();
await Promise.all([redis.quit(), queueConnection.quit()]);
