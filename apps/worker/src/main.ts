#!/usr/bin/env node
/**
 * The `multisession-worker` process: wiring only. Configuration from the
 * environment (config.ts), its own Redis connections, the worker's parts
 * (worker-service.ts); closes on SIGTERM/SIGINT in this order: cron, in-flight
 * sweep, cleanup worker (in-flight jobs), queue, HTTP server, Redis, the whole
 * within SHUTDOWN_TIMEOUT_MS whatever Redis is doing (service-kit's
 * closeOnSignals).
 */
import type { AddressInfo } from "node:net";
import { closeOnSignals, closeRedis, connectRedis, createLogger, loadOrExit } from "@multisession/service-kit";
import { loadConfig } from "./config.js";
import { createWorkerService } from "./worker-service.js";

const config = loadOrExit("multisession worker", () => loadConfig());
const logger = createLogger({ name: "multisession-worker", level: config.logLevel, production: config.production });
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

const redis = connectRedis(config.redis, logger, "multisession-worker", {
  commandTimeoutMs: config.redisCommandTimeoutMs,
});
// A REDIS_URL that names a cluster node stops the process here, before BullMQ sends its first command.
await redis.checked;
const worker = await createWorkerService({
  sessions: redis.sessions,
  queueConnection: redis.queue,
  queuePrefix: config.queuePrefix,
  sessionPrefix: config.sessionPrefix,
  concurrency: config.concurrency,
  sweep: {
    cron: config.sweepCron,
    batchSize: config.sweepBatchSize,
    concurrency: config.sweepConcurrency,
    dutyPercent: config.sweepDutyPercent,
    budgetMs: config.sweepBudgetMs,
    slotGroups: config.sweepSlotGroups,
    leaseMs: config.sweepLeaseMs,
  },
  http: { port: config.httpPort, host: config.httpHost, dashboard: config.dashboard },
  logger,
});

const address = await worker.start();
logger.info(
  {
    address,
    port: (worker.server?.server.address() as AddressInfo | null)?.port,
    redisCluster: config.redis.cluster,
    sweepCron: config.sweepCron,
    sweepSlotGroups: config.sweepSlotGroups,
    concurrency: config.concurrency,
    dashboard: config.dashboard !== null,
  },
  "worker started",
);

closeOnSignals(
  logger,
  [
    ...worker.closeSteps(config.shutdownTimeoutMs),
    ["redis", (ms) => Promise.all([closeRedis(redis.sessions, ms / 2), closeRedis(redis.queue, ms / 2)])],
  ],
  { timeoutMs: config.shutdownTimeoutMs },
);
