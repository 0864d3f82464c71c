/**
 * The worker's parts put together, on connections it is handed: the session
 * store and queue it works on, the cleanup consumer, the sweeper with its
 * leases, the metrics and (when asked) the HTTP server. Both ways of running
 * the worker use it: the `multisession-worker` process (main.ts, with its
 * own connections from the environment) and `startCleanupWorker` (in a
 * server's process, on the server's connections or its own).
 *
 * It closes only what it created: `closeSteps` stops the sweeper and the
 * consumer, then closes the queue if it made it and the HTTP server if it
 * has one, in that order. The connections are the caller's to close, after.
 */
import {
  type CloseStep,
  clusterStateOk,
  gracefulClose,
  redisAnswers,
  ShutdownDeadlineError,
  settlesWithin,
} from "@multisession/service-kit";
import { CLEANUP_QUEUE_NAME, SessionStore } from "@multisession/session-core";
import { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { Cluster, type Redis } from "ioredis";
import type { Logger } from "pino";
import { createCleanupWorker } from "./cleanup-worker.js";
import { createServer, type ReadinessCheck } from "./http/server.js";
import { createMetrics, type SweepSummary } from "./metrics.js";
import { SweepLease } from "./sweeper/lease.js";
import { createSweeper, type SweepOptions } from "./sweeper/sweeper.js";

/** Each readiness ping's limit: /readyz answers within about a second even while Redis is paused. */
const READINESS_PING_MS = 900;

export interface SweepSettings {
  cron: string;
  batchSize: number;
  concurrency: number;
  dutyPercent: number;
  budgetMs: number;
  slotGroups: number;
  leaseMs: number;
}

export interface HttpSettings {
  port: number;
  host: string;
  /** Basic-auth credentials for /admin/queues; null keeps the dashboard off. */
  dashboard: { user: string; password: string } | null;
}

export interface WorkerServiceOptions {
  /** Session data and the sweep leases (session-core's connection options). */
  sessions: Redis | Cluster;
  /** BullMQ's connection (`maxRetriesPerRequest: null`); the consumer duplicates it for its blocking reads. */
  queueConnection: Redis | Cluster;
  /** The `session-cleanup` queue to use; one is made on `queueConnection` (and closed) when unset. */
  queue?: Queue;
  queuePrefix: string;
  sessionPrefix: string;
  concurrency: number;
  sweep: SweepSettings;
  /** Where health, metrics and the dashboard listen; null: no HTTP server. */
  http: HttpSettings | null;
  logger: Logger;
}

export interface WorkerService {
  readonly server: FastifyInstance | null;
  /** Every connection the worker needs, by name, and whether the consumer runs. */
  readiness(): Promise<ReadinessCheck>;
  /** One sweep now, outside the schedule, through the same leases. */
  sweep(options?: SweepOptions): Promise<SweepSummary>;
  /** Listens (when there is an HTTP server), then starts the consumer and the sweeper's schedule. Resolves the address. */
  start(): Promise<string | null>;
  /**
   * The close steps, in order, for a shutdown of `budgetMs` in all: the waits for the sweep and the jobs
   * in flight leave up to a second of it to what closes after them.
   */
  closeSteps(budgetMs: number): CloseStep[];
}

export async function createWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  const { sessions, queueConnection, logger, sweep: settings } = options;
  const ownQueue = options.queue === undefined;
  const queue =
    options.queue ?? new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: options.queuePrefix });
  if (ownQueue) queue.on("error", (error) => logger.debug({ err: { message: error.message } }, "queue error"));
  const store = new SessionStore({ redis: sessions, queue, prefix: options.sessionPrefix, logger });
  const metrics = createMetrics(queue);

  const cleanupWorker = createCleanupWorker({
    connection: queueConnection,
    queuePrefix: options.queuePrefix,
    store,
    concurrency: options.concurrency,
    logger,
    metrics,
  });
  const lease = new SweepLease({
    redis: sessions,
    prefix: options.sessionPrefix,
    groups: settings.slotGroups,
    leaseMs: settings.leaseMs,
    logger,
    onChange: (held) => metrics.setLeaseHeld(held),
  });
  const sweeper = createSweeper({
    store,
    lease,
    cron: settings.cron,
    batchSize: settings.batchSize,
    concurrency: settings.concurrency,
    dutyPercent: settings.dutyPercent,
    budgetMs: settings.budgetMs,
    logger,
    metrics,
  });

  const readiness = async (): Promise<ReadinessCheck> => {
    // The pings run at once, so a paused Redis costs one timeout. On a cluster, `cluster`: every master says cluster_state:ok.
    const [sessionsConnection, queueConnectionUp, cluster] = await Promise.all([
      redisAnswers(sessions, READINESS_PING_MS),
      redisAnswers(queueConnection, READINESS_PING_MS),
      sessions instanceof Cluster ? clusterStateOk(sessions, READINESS_PING_MS) : undefined,
    ]);
    const checks = {
      sessionsConnection,
      queueConnection: queueConnectionUp,
      ...(cluster === undefined ? {} : { cluster }),
      workerConnection: cleanupWorker.blockingConnectionUp(),
      consumer: cleanupWorker.isRunning(),
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };

  const server = options.http
    ? await createServer({ logger, queue, metrics, dashboard: options.http.dashboard, readiness })
    : null;
  const closeHttp = server ? gracefulClose(server) : null;

  return {
    server,
    readiness,
    sweep: (sweepOptions) => sweeper.sweep(sweepOptions),
    async start() {
      const address =
        server && options.http ? await server.listen({ port: options.http.port, host: options.http.host }) : null;
      cleanupWorker.start();
      sweeper.start();
      return address;
    },
    closeSteps(budgetMs) {
      const reserveMs = Math.min(1_000, Math.floor(budgetMs / 4));
      const steps: CloseStep[] = [
        [
          "sweeper",
          async (ms) => {
            if (!(await sweeper.stop(ms - reserveMs))) throw new ShutdownDeadlineError("sweep left mid-step");
          },
        ],
        ["cleanup worker", (ms) => cleanupWorker.close(ms - reserveMs)],
      ];
      if (ownQueue) {
        steps.push([
          "queue",
          async (ms) => {
            if (!(await settlesWithin(queue.close(), ms / 3)))
              throw new ShutdownDeadlineError("queue not closed in time");
          },
        ]);
      }
      if (closeHttp) steps.push(["http", (ms) => closeHttp(ms / 2)]);
      return steps;
    },
  };
}
