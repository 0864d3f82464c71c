/**
 * The sweeper: on every cron tick the replica holding the lease (lease.ts)
 * claims due users from session-core's activity set in bounded batches and
 * cleans them through session-core's `cleanUsers`, until nothing due is
 * left, the time budget is spent (the rest waits for the next run) or the
 * lease is lost. Each run logs one summary line.
 */
import { CLEAN_USERS_PER_CALL, type SessionStore } from "@multisession/session-core";
import { createTask, type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Metrics, SweepSummary } from "../metrics.js";
import type { SweepLease } from "./lease.js";

export interface SweeperOptions {
  store: SessionStore;
  lease: SweepLease;
  cron: string;
  batchSize: number;
  /** Cleaning calls in flight (each up to CLEAN_USERS_PER_CALL users): more sweeps faster and slows API reads meanwhile. */
  concurrency: number;
  budgetMs: number;
  leaseMs: number;
  logger: Logger;
  metrics: Metrics;
}

export interface Sweeper {
  /** Starts the cron schedule. */
  start(): void;
  /** One sweep now, outside the schedule and the lease (for tests and tools). */
  sweep(keepGoing?: () => boolean): Promise<SweepSummary>;
  /** Stops the schedule and waits (at most `timeoutMs`) for a sweep in flight. */
  stop(timeoutMs: number): Promise<void>;
}

export function createSweeper(options: SweeperOptions): Sweeper {
  const { store, lease, batchSize, budgetMs, logger, metrics } = options;
  let inFlight: Promise<unknown> | null = null;
  let stopping = false;

  async function sweep(keepGoing: () => boolean = () => true): Promise<SweepSummary> {
    const startedAt = performance.now();
    const summary: SweepSummary = {
      usersScanned: 0,
      sessionsDeleted: 0,
      hashesDeleted: 0,
      durationMs: 0,
      budgetExhausted: false,
    };
    for (;;) {
      if (performance.now() - startedAt >= budgetMs) {
        summary.budgetExhausted = true;
        break;
      }
      if (!keepGoing()) break;
      const users = await store.claimDueUsers(batchSize);
      if (users.length === 0) break;
      // The batch is cleaned in calls of up to CLEAN_USERS_PER_CALL users (each user judged on its own
      // inside one atomic script), at most `concurrency` calls at a time, so that a sweep never queues
      // more than a few milliseconds of work ahead of the API servers' reads. Users that keep a live
      // session go back into the activity set in one command per batch.
      let failure: unknown;
      let next = 0;
      const stillActive: { userId: string; dueAt: number }[] = [];
      const lane = async () => {
        while (next < users.length && failure === undefined) {
          const chunk = users.slice(next, next + CLEAN_USERS_PER_CALL);
          next += chunk.length;
          try {
            const results = await store.cleanUsers(chunk, { reschedule: false });
            results.forEach((result, i) => {
              summary.usersScanned++;
              summary.sessionsDeleted += result.deletedSessions;
              if (result.deletedHash) summary.hashesDeleted++;
              if (result.nextDueAt !== null) stillActive.push({ userId: chunk[i] as string, dueAt: result.nextDueAt });
            });
          } catch (error) {
            failure ??= error;
          }
        }
      };
      const calls = Math.ceil(users.length / CLEAN_USERS_PER_CALL);
      await Promise.all(Array.from({ length: Math.min(options.concurrency, calls) }, lane));
      await store.rescheduleUsers(stillActive);
      if (failure !== undefined) throw failure;
      logger.debug({ batch: users.length, usersScanned: summary.usersScanned }, "sweep progress");
    }
    summary.durationMs = Math.round(performance.now() - startedAt);
    return summary;
  }

  const task: ScheduledTask = createTask(
    options.cron,
    async (context) => {
      const tick = context.date.toISOString();
      const run = sweep(() => lease.held && !stopping);
      inFlight = run;
      try {
        const summary = await run;
        metrics.sweepFinished(summary);
        logger.info({ tick, ...summary }, "sweep finished");
      } catch (error) {
        logger.error({ tick, err: error }, "sweep failed; the next tick retries");
      } finally {
        inFlight = null;
      }
    },
    {
      name: "session-sweeper",
      noOverlap: true,
      distributed: true,
      runCoordinator: lease,
      distributedLease: options.leaseMs,
      logger: {
        info: (message) => logger.debug(message),
        warn: (message) => logger.warn(message),
        error: (message, err) => logger.error({ err: err ?? message }, String(message)),
        debug: (message) => logger.debug(String(message)),
      },
    },
  );

  return {
    start: () => void task.start(),
    sweep,
    async stop(timeoutMs) {
      // The sweep in flight ends after its current batch; what is left waits for the next run (any replica).
      stopping = true;
      await task.stop();
      if (inFlight) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([inFlight, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
        clearTimeout(timer);
      }
      await task.destroy();
      await lease.onComplete();
    },
  };
}
