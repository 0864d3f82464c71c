/**
 * The consumer of `session-cleanup`: each job names one expired session
 * (user id + session key, never a secret) and is run by session-core's
 * `deleteExpiredSession`, which deletes only if the session is still expired.
 * That makes at-least-once delivery safe: retries, duplicates and stalled-job
 * recovery can never delete a live session. A job whose data is malformed
 * fails at once (UnrecoverableError) instead of retrying forever.
 *
 * A job whose worker died is taken back by another replica once its lock
 * expires: JOB_LOCK_MS and STALLED_CHECK_MS bound that (README, "Consumer").
 * Closing is bounded: past its time limit the worker drops its blocking
 * connection and leaves the jobs in flight to that recovery.
 */

import { ShutdownDeadlineError, settlesWithin } from "@multisession/service-kit";
import {
  CLEANUP_QUEUE_NAME,
  DELETE_EXPIRED_SESSION_JOB,
  type DeleteExpiredSessionJobData,
  InvalidInputError,
  type SessionStore,
} from "@multisession/session-core";
import { type Job, type RedisClient, UnrecoverableError, Worker } from "bullmq";
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";
import { repeatedErrors } from "./repeated-errors.js";

/**
 * How long a job's lock lives without renewal (BullMQ renews it every half of this while the job runs).
 * Deletion jobs take milliseconds; a job whose worker died is retried about this long after.
 */
export const JOB_LOCK_MS = 10_000;
/** How often BullMQ looks for jobs whose lock expired (stalled) and puts them back in the queue. */
export const STALLED_CHECK_MS = 5_000;

export interface CleanupWorkerOptions {
  /** A connection with `maxRetriesPerRequest: null`; BullMQ duplicates it for its blocking reads. */
  connection: Redis | Cluster;
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
  /** True while BullMQ's own (blocking) connection, the one that fetches jobs, is connected. */
  blockingConnectionUp(): boolean;
  /**
   * Stops taking jobs and waits for the ones in flight, at most `timeoutMs`. Past it, drops the
   * worker's blocking connection and rejects with ShutdownDeadlineError: the jobs still in flight are
   * retried by another replica once their lock expires.
   */
  close(timeoutMs: number): Promise<void>;
}

export function createCleanupWorker(options: CleanupWorkerOptions): CleanupWorker {
  const { store, logger, metrics } = options;
  // Checked once: the completed handler runs for every job.
  const debug = logger.isLevelEnabled("debug");
  let jobsInFlight = 0;

  const worker = new Worker<DeleteExpiredSessionJobData>(
    CLEANUP_QUEUE_NAME,
    async (job: Job<DeleteExpiredSessionJobData>) => {
      if (job.name !== DELETE_EXPIRED_SESSION_JOB) throw new UnrecoverableError(`unknown job name ${job.name}`);
      const { userId, sessionKey } = job.data ?? {};
      jobsInFlight++;
      try {
        return await store.deleteExpiredSession(userId, sessionKey);
      } catch (error) {
        if (error instanceof InvalidInputError) throw new UnrecoverableError(`malformed job data: ${error.message}`);
        throw error;
      } finally {
        jobsInFlight--;
      }
    },
    {
      connection: options.connection,
      prefix: options.queuePrefix,
      concurrency: options.concurrency,
      autorun: false,
      lockDuration: JOB_LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
    },
  );
  // BullMQ's own connection for its blocking reads (a duplicate of `connection`): known once it is up.
  let blocking: RedisClient | undefined;
  worker
    .getBackend()
    .blockingClient?.then((client) => {
      blocking = client;
    })
    .catch(() => {});

  worker.on("completed", (job, result: { deletedSession: boolean; deletedHash: boolean }) => {
    metrics.jobCompleted(result.deletedSession);
    if (debug) logger.debug({ jobId: job.id, userId: job.data.userId, ...result }, "deletion job done");
  });
  // While Redis is in trouble every job fails alike: the same failure is logged once per interval.
  const repeats = repeatedErrors(logger);
  worker.on("failed", (job, error) => {
    metrics.jobFailed();
    repeats.log("warn", { jobId: job?.id, attempts: job?.attemptsMade, err: error }, "deletion job failed");
  });
  // Connection trouble: BullMQ reconnects by itself; we only log.
  worker.on("error", (error) => repeats.log("error", { err: error }, "cleanup worker error"));

  let closing = false;
  return {
    start() {
      worker.run().catch((error) => logger.error({ err: error }, "cleanup worker stopped"));
    },
    isRunning: () => !closing && worker.isRunning(),
    blockingConnectionUp: () => blocking?.status === "ready",
    async close(timeoutMs) {
      closing = true;
      const graceful = worker.close();
      graceful.catch(() => {});
      const closed = await settlesWithin(graceful, timeoutMs);
      repeats.flush();
      if (closed) return;
      // BullMQ 6's close(true) after a graceful close has begun only returns that close: never await
      // it. Dropping the blocking connection ends the wait for the next job; the jobs in flight keep
      // their lock until it expires, then another replica takes them (stalled-job recovery).
      logger.warn(
        { timeoutMs, jobsInFlight },
        "cleanup worker not closed at the shutdown deadline: dropping its connection; jobs in flight are retried",
      );
      if (blocking) blocking.disconnect();
      else
        void worker
          .getBackend()
          .disconnectBlocking(false)
          .catch(() => {});
      throw new ShutdownDeadlineError(
        `${jobsInFlight} job(s) in flight or Redis not answering after ${timeoutMs} ms: left to be retried`,
      );
    },
  };
}
