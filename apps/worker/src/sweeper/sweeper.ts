/**
 * The sweeper: on every cron tick the replica holding the lease (lease.ts)
 * sweeps due users from session-core's activity set with session-core's
 * `sweepDueUsers`, in steps of at most `batchSize` users, until nothing due
 * is left, the time budget is spent (the rest waits for the next run) or the
 * lease is lost. Each run logs one summary line.
 *
 * Interruptions are never silent: a sweep cut short by shutdown logs one warn
 * line with its progress and why it stopped, and a sweep that died without
 * a word (SIGKILL) is reported by the next sweep on any replica, through the
 * lease's sweep mark.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { settlesWithin } from "@multisession/service-kit";
import type { SessionStore } from "@multisession/session-core";
import { createTask, type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Metrics, SweepSummary } from "../metrics.js";
import { repeatedErrors } from "../repeated-errors.js";
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
  /**
   * Stops the schedule and lets a sweep in flight end after its current step, all within `timeoutMs`.
   * Resolves false when the sweep was still in a step at that point (it is logged and left: what it
   * had not reached waits for the next sweep, on any replica).
   */
  stop(timeoutMs: number): Promise<boolean>;
}

/** A sweep in progress: its numbers so far, and whether it stopped before nothing due was left. */
interface SweepRun {
  summary: SweepSummary;
  startedAt: number;
  interrupted: boolean;
  /** Set once its interruption has been logged, so it is logged once. */
  reported: boolean;
}

const newSummary = (): SweepSummary => ({
  usersScanned: 0,
  sessionsDeleted: 0,
  hashesDeleted: 0,
  durationMs: 0,
  budgetExhausted: false,
});

export function createSweeper(options: SweeperOptions): Sweeper {
  const { store, lease, batchSize, budgetMs, logger, metrics } = options;
  let inFlight: { run: SweepRun; done: Promise<unknown>; tick: string } | null = null;
  let stopping = false;
  // A sweep that fails on every tick (Redis in trouble) is logged once per interval.
  const repeats = repeatedErrors(logger);

  async function sweep(keepGoing: () => boolean = () => true): Promise<SweepSummary> {
    return runSweep(
      { summary: newSummary(), startedAt: performance.now(), interrupted: false, reported: false },
      keepGoing,
    );
  }

  async function runSweep(run: SweepRun, keepGoing: () => boolean): Promise<SweepSummary> {
    const { summary, startedAt } = run;
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
          run.interrupted = true;
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
      const run: SweepRun = {
        summary: newSummary(),
        startedAt: performance.now(),
        interrupted: false,
        reported: false,
      };
      const done = (async () => {
        try {
          const unfinished = await lease.markSweepStart();
          if (unfinished) {
            logger.warn(
              { tick, holder: unfinished.holder, startedAt: unfinished.startedAt.toISOString() },
              "previous sweep did not finish",
            );
          }
        } catch (error) {
          logger.warn({ tick, err: error }, "could not mark the sweep as started; sweeping anyway");
        }
        const summary = await runSweep(run, () => lease.held && !stopping);
        metrics.sweepFinished(summary);
        if (run.interrupted && stopping) reportInterrupted(tick, run, "shutdown: stopped after its current step");
        else logger.info({ tick, ...summary }, "sweep finished");
        // Cleared only once the sweep ended on its own terms: a mark left behind is the trace of one that did not.
        await lease.clearSweepMark().catch((error) => logger.debug({ err: error }, "sweep mark not cleared"));
      })();
      inFlight = { run, done, tick };
      try {
        await done;
      } catch (error) {
        repeats.log("error", { tick, err: error }, "sweep failed; the next tick retries");
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
      // The sweep in flight ends after its current step; what is left waits for the next run (any replica).
      const deadline = performance.now() + timeoutMs;
      const left = () => Math.max(0, deadline - performance.now());
      stopping = true;
      await task.stop();
      const current = inFlight;
      let ended = true;
      if (current && !(await settlesWithin(current.done, left()))) {
        ended = false;
        reportInterrupted(current.tick, current.run, "shutdown deadline: its current step had not returned");
      }
      await task.destroy();
      repeats.flush();
      // Releasing the lease is a courtesy: if Redis does not answer in time, the lease expires by itself.
      const release = lease.onComplete();
      if (!(await settlesWithin(release, left()))) logger.debug("sweep lease not released in time; it expires");
      return ended;
    },
  };

  function reportInterrupted(tick: string, run: SweepRun, reason: string): void {
    if (run.reported) return;
    run.reported = true;
    const durationMs = Math.round(performance.now() - run.startedAt);
    logger.warn({ tick, reason, ...run.summary, durationMs }, "sweep interrupted by shutdown");
  }
}
