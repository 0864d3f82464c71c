/**
 * The worker process: wiring only. Configuration from the environment
 * (config.ts); closes on SIGTERM/SIGINT in this order: cron, in-flight sweep,
 * cleanup worker (in-flight jobs), queue, HTTP server, Redis, the whole
 * within SHUTDOWN_TIMEOUT_MS whatever Redis is doing (service-kit's
 * closeOnSignals).
 */
import type { AddressInfo } from "node:net";
import {
  closeOnSignals,
  closeRedis,
  clusterStateOk,
  connectRedis,
  createLogger,
  gracefulClose,
  loadOrExit,
  redisAnswers,
  ShutdownDeadlineError,
  settlesWithin,
} from "@multisession/service-kit";
import { CLEANUP_QUEUE_NAME, SessionStore } from "@multisession/session-core";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { createCleanupWorker } from "./cleanup-worker.js";
import { loadConfig } from "./config.js";
import { createServer } from "./http/server.js";
import { createMetrics } from "./metrics.js";
import { SweepLease } from "./sweeper/lease.js";
import { createSweeper } from "./sweeper/sweeper.js";

/** Each readiness ping's limit: /readyz answers within about a second even while Redis is paused. */
const READINESS_PING_MS = 900;

const config = loadOrExit("multisession worker", () => loadConfig());
const logger = createLogger({ name: "multisession-worker", level: config.logLevel, production: config.production });
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

const redis = connectRedis(config.redis, logger, "multisession-worker", {
  commandTimeoutMs: config.redisCommandTimeoutMs,
});
// A REDIS_URL that names a cluster node stops the process here, before BullMQ sends its first command.
await redis.checked;
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
  groups: config.sweepSlotGroups,
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
  logger,
  metrics,
});
const server = await createServer({
  logger,
  queue,
  metrics,
  dashboard: config.dashboard,
  readiness: async () => {
    // Every connection the worker needs, by name; the pings run at once, so a paused Redis costs one timeout.
    // On a cluster, `cluster`: every master says cluster_state:ok.
    const [sessionsConnection, queueConnection, cluster] = await Promise.all([
      redisAnswers(redis.sessions, READINESS_PING_MS),
      redisAnswers(redis.queue, READINESS_PING_MS),
      redis.sessions instanceof Cluster ? clusterStateOk(redis.sessions, READINESS_PING_MS) : undefined,
    ]);
    const checks = {
      sessionsConnection,
      queueConnection,
      ...(cluster === undefined ? {} : { cluster }),
      workerConnection: cleanupWorker.blockingConnectionUp(),
      consumer: cleanupWorker.isRunning(),
    };
    return { ready: Object.values(checks).every(Boolean), checks };
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
    redisCluster: config.redis.cluster,
    sweepCron: config.sweepCron,
    sweepSlotGroups: config.sweepSlotGroups,
    concurrency: config.concurrency,
    dashboard: config.dashboard !== null,
  },
  "worker started",
);

// The waits for work in flight (sweep, jobs) leave this much of SHUTDOWN_TIMEOUT_MS to closing the connections.
const closeReserveMs = Math.min(1_000, Math.floor(config.shutdownTimeoutMs / 4));
closeOnSignals(
  logger,
  [
    [
      "sweeper",
      async (ms) => {
        if (!(await sweeper.stop(ms - closeReserveMs))) throw new ShutdownDeadlineError("sweep left mid-step");
      },
    ],
    ["cleanup worker", (ms) => cleanupWorker.close(ms - closeReserveMs)],
    [
      "queue",
      async (ms) => {
        if (!(await settlesWithin(queue.close(), ms / 3))) throw new ShutdownDeadlineError("queue not closed in time");
      },
    ],
    ["http", (ms) => closeHttp(ms / 2)],
    ["redis", (ms) => Promise.all([closeRedis(redis.sessions, ms / 2), closeRedis(redis.queue, ms / 2)])],
  ],
  { timeoutMs: config.shutdownTimeoutMs },
);
