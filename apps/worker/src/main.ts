/**
 * The worker process: wiring only. Configuration from the environment
 * (config.ts); closes on SIGTERM/SIGINT in this order: cron, in-flight sweep,
 * cleanup worker (in-flight jobs), queue, HTTP server, Redis.
 */
import type { AddressInfo } from "node:net";
import {
  closeOnSignals,
  connectRedis,
  createLogger,
  gracefulClose,
  loadOrExit,
  redisAnswers,
} from "@multisession/service-kit";
import { CLEANUP_QUEUE_NAME, SessionStore } from "@multisession/session-core";
import { Queue } from "bullmq";
import { createCleanupWorker } from "./cleanup-worker.js";
import { loadConfig } from "./config.js";
import { createServer } from "./http/server.js";
import { createMetrics } from "./metrics.js";
import { SweepLease } from "./sweeper/lease.js";
import { createSweeper } from "./sweeper/sweeper.js";

const config = loadOrExit("multisession worker", () => loadConfig());
const logger = createLogger({ name: "multisession-worker", level: config.logLevel, production: config.production });
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

const redis = connectRedis(config.redisUrl, logger, "multisession-worker", {
  commandTimeoutMs: config.redisCommandTimeoutMs,
});
const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: redis.queue, prefix: config.queuePrefix });
queue.on("error", (error) => logger.debug({ err: { message: error.message } }, "queue error"));
const store = new SessionStore({ redis: redis.sessions, queue, prefix: config.sessionPrefix, logger });
const metrics = createMetrics(queue);

const cleanupWorker = createCleanupWorker({
  connection: redis.queue,
  queuePrefix: config.queuePrefix,
  store,
  concurrency: config.concurrency,
  logger,
  metrics,
});
const lease = new SweepLease({
  redis: redis.sessions,
  prefix: config.sessionPrefix,
  leaseMs: config.sweepLeaseMs,
  logger,
  onChange: (held) => metrics.setLeaseHeld(held),
});
const sweeper = createSweeper({
  store,
  lease,
  cron: config.sweepCron,
  batchSize: config.sweepBatchSize,
  concurrency: config.sweepConcurrency,
  dutyPercent: config.sweepDutyPercent,
  budgetMs: config.sweepBudgetMs,
  leaseMs: config.sweepLeaseMs,
  logger,
  metrics,
});
const server = await createServer({
  logger,
  queue,
  metrics,
  dashboard: config.dashboard,
  readiness: async () => {
    const checks = { redis: await redisAnswers(redis.sessions), worker: cleanupWorker.isRunning() };
    return { ready: checks.redis && checks.worker, checks };
  },
});

const closeHttp = gracefulClose(server);
const address = await server.listen({ port: config.httpPort, host: config.httpHost });
cleanupWorker.start();
sweeper.start();
logger.info(
  {
    address,
    port: (server.server.address() as AddressInfo).port,
    sweepCron: config.sweepCron,
    concurrency: config.concurrency,
    dashboard: config.dashboard !== null,
  },
  "worker started",
);

closeOnSignals(logger, [
  ["sweeper", () => sweeper.stop(config.shutdownTimeoutMs)],
  ["cleanup worker", () => cleanupWorker.close(config.shutdownTimeoutMs)],
  ["queue", () => queue.close()],
  ["http", () => closeHttp(config.shutdownTimeoutMs)],
  ["redis", () => Promise.all([redis.sessions.quit(), redis.queue.quit()])],
]);
