/**
 * The sweeper: on every cron tick the replica holding the lease (lease.ts)
 * sweeps due users from session-core's activity set with session-core's
 * `sweepDueUsers`, in steps of at most `batchSize` users, until nothing due
 * is left, the time budget is spent (the rest waits for the next run) or the
 * lease is lost. Each run logs one summary line.
 */

import { setTimeout as sleep } from "node:timers/promises";
import type { SessionStore } from "@multisession/session-core";
import { createTask, type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Metrics, SweepSummary } from "../metrics.js";
import type { SweepLease } from "./lease.js";

export interface SweeperOptions {
  store: SessionStore;
  lease: SweepLease;
  cron: string;
  batchSize: number;
  /** Sweep steps in flight: more sweeps faster and slows API reads meanwhile. */
  concurrency: number;
  /**
   * Share of wall time spent in sweep steps, in percent: after a step that took t ms a lane rests
   * t × (100 − duty) / duty ms, leaving Redis (and the machine) to the API servers meanwhile.
   */
  dutyPercent: number;
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
    // `concurrency` lanes, each taking sweep steps of up to `batchSize` users until nothing due is
    // left, the budget is spent or the lease is lost. A step is session-core's: on a single Redis, one
    // atomic script per 128 users (claim, clean each user on its own, re-add the still-live ones).
    let finished = false;
    const lane = async () => {
      while (!finished) {
        if (performance.now() - startedAt >= budgetMs) {
          summary.budgetExhausted = true;
          finished = true;
          break;
        }
        if (!keepGoing()) {
          finished = true;
          break;
        }
        const stepStarted = performance.now();
        const step = await store.sweepDueUsers(batchSize);
        summary.usersScanned += step.usersCleaned;
        summary.sessionsDeleted += step.sessionsDeleted;
        summary.hashesDeleted += step.hashesDeleted;
        if (step.usersCleaned < batchSize) finished = true;
        logger.debug({ step: step.usersCleaned, usersScanned: summary.usersScanned }, "sweep progress");
        if (!finished && options.dutyPercent < 100) {
          await sleep(((performance.now() - stepStarted) * (100 - options.dutyPercent)) / options.dutyPercent);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: options.concurrency }, lane));
    } finally {
      finished = true;
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
