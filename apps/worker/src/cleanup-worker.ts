/**
 * The consumer of `session-cleanup`: each job names one expired session
 * (user id + session key, never a secret) and is run by session-core's
 * `deleteExpiredSession`, which deletes only if the session is still expired.
 * That makes at-least-once delivery safe: retries, duplicates and stalled-job
 * recovery can never delete a live session. A job whose data is malformed
 * fails at once (UnrecoverableError) instead of retrying forever.
 */
import {
  CLEANUP_QUEUE_NAME,
  DELETE_EXPIRED_SESSION_JOB,
  type DeleteExpiredSessionJobData,
  InvalidInputError,
  type SessionStore,
} from "@multisession/session-core";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";

export interface CleanupWorkerOptions {
  /** A connection with `maxRetriesPerRequest: null`; BullMQ duplicates it for its blocking reads. */
  connection: Redis;
  queuePrefix: string;
  store: SessionStore;
  concurrency: number;
  logger: Logger;
  metrics: Metrics;
}

export interface CleanupWorker {
  start(): void;
  /** True while the worker is taking jobs. */
  isRunning(): boolean;
  /** Stops taking jobs and waits for the ones in flight; after `timeoutMs`, abandons them to be retried elsewhere. */
  close(timeoutMs: number): Promise<void>;
}

export function createCleanupWorker(options: CleanupWorkerOptions): CleanupWorker {
  const { store, logger, metrics } = options;
  // Checked once: the completed handler runs for every job.
  const debug = logger.isLevelEnabled("debug");

  const worker = new Worker<DeleteExpiredSessionJobData>(
    CLEANUP_QUEUE_NAME,
    async (job: Job<DeleteExpiredSessionJobData>) => {
      if (job.name !== DELETE_EXPIRED_SESSION_JOB) throw new UnrecoverableError(`unknown job name ${job.name}`);
      const { userId, sessionKey } = job.data ?? {};
      try {
        return await store.deleteExpiredSession(userId, sessionKey);
      } catch (error) {
        if (error instanceof InvalidInputError) throw new UnrecoverableError(`malformed job data: ${error.message}`);
        throw error;
      }
    },
    { connection: options.connection, prefix: options.queuePrefix, concurrency: options.concurrency, autorun: false },
  );

  worker.on("completed", (job, result: { deletedSession: boolean; deletedHash: boolean }) => {
    metrics.jobCompleted(result.deletedSession);
    if (debug) logger.debug({ jobId: job.id, userId: job.data.userId, ...result }, "deletion job done");
  });
  worker.on("failed", (job, error) => {
    metrics.jobFailed();
    logger.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: error }, "deletion job failed");
  });
  // Connection trouble: BullMQ reconnects by itself; we only log.
  worker.on("error", (error) => logger.error({ err: error }, "cleanup worker error"));

  let closing = false;
  return {
    start() {
      worker.run().catch((error) => logger.error({ err: error }, "cleanup worker stopped"));
    },
    isRunning: () => !closing && worker.isRunning(),
    async close(timeoutMs) {
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      const outcome = await Promise.race([worker.close(), timedOut]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        logger.warn({ timeoutMs }, "jobs still running at the shutdown deadline: leaving them to be retried");
        await worker.close(true);
      }
    },
  };
}
