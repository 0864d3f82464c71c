/**
 * The sweeper: on every cron tick every replica walks the slot groups
 * (slot-groups.ts) from a random start. For each group whose lease it gets
 * (lease.ts: each group once per tick across replicas, never two sweeps of
 * one group at once) it asks session-core which of the group's slots hold due
 * users (`findDueSlots`), sweeps each of those slots' shards with `sweepSlot`
 * in steps of at most `batchSize` users until the shard has none due, releases
 * the group and moves on. The holder of group 0 first moves what is left of
 * the activity set of older releases into the shards (`drainLegacyActivity`).
 * The time budget is the whole tick's; what it did not reach waits for the
 * next tick, on any replica. Each tick in which a replica swept a group logs
 * one summary line on that replica.
 *
 * Interruptions are never silent: a sweep cut short by shutdown logs one warn
 * line with its progress and why it stopped, and a group's sweep that died
 * without a word (SIGKILL) is reported by that group's next sweep on any
 * replica, through the group's sweep mark.
 */

import { randomInt, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { settlesWithin } from "@multisession/service-kit";
import type { SessionStore } from "@multisession/session-core";
import { createTask, type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Metrics, SweepSummary } from "../metrics.js";
import { repeatedErrors } from "../repeated-errors.js";
import type { SweepLease } from "./lease.js";
import { slotsOfGroup } from "./slot-groups.js";

export interface SweeperOptions {
  store: SessionStore;
  /** The group leases; their number is the number of slot groups. */
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
  /** A tick starts no new step after this long. */
  budgetMs: number;
  logger: Logger;
  metrics: Metrics;
}

export interface SweepOptions {
  /**
   * The tick this sweep belongs to: processes sweeping with the same tick split the groups between them,
   * each group swept once. A new one per call when unset.
   */
  tick?: string;
  /** Asked before each step; false stops the sweep after its current step. */
  keepGoing?: () => boolean;
}

export interface Sweeper {
  /** Starts the cron schedule. */
  start(): void;
  /** One sweep now, outside the schedule, through the same group leases (for tests, tools and the bench). */
  sweep(options?: SweepOptions): Promise<SweepSummary>;
  /**
   * Stops the schedule and lets a sweep in flight end after its current step, all within `timeoutMs`.
   * Resolves false when the sweep was still in a step at that point (it is logged and left: what it
   * had not reached waits for the next sweep, on any replica).
   */
  stop(timeoutMs: number): Promise<boolean>;
}

/** One tick's sweep on this replica: its numbers so far, and whether it stopped before its walk ended. */
interface SweepRun {
  tick: string;
  summary: SweepSummary;
  startedAt: number;
  interrupted: boolean;
  /** Set once its interruption has been logged, so it is logged once. */
  reported: boolean;
}

interface GroupFailure {
  group: number;
  error: unknown;
}

const newRun = (tick: string): SweepRun => ({
  tick,
  summary: {
    usersScanned: 0,
    sessionsDeleted: 0,
    hashesDeleted: 0,
    groupsSwept: 0,
    groups: [],
    durationMs: 0,
    budgetExhausted: false,
  },
  startedAt: performance.now(),
  interrupted: false,
  reported: false,
});

/** A lane sleeps the rest it owes once it reaches this (see `rester`). */
const REST_AT_LEAST_MS = 5;

export function createSweeper(options: SweeperOptions): Sweeper {
  const { store, lease, batchSize, budgetMs, logger, metrics } = options;
  const groupSlots = Array.from({ length: lease.groups }, (_, group) => slotsOfGroup(group, lease.groups));
  let inFlight: { run: SweepRun; done: Promise<unknown> } | null = null;
  let stopping = false;
  // A sweep that fails on every tick (Redis in trouble) is logged once per interval.
  const repeats = repeatedErrors(logger);

  const outOfBudget = (run: SweepRun) => performance.now() - run.startedAt >= budgetMs;
  /**
   * The rest a lane owes after its steps: t × (100 − duty) / duty ms per step of t ms, slept once it adds
   * up to REST_AT_LEAST_MS. A step is often under a millisecond (one shard), and a timer sleeps a
   * millisecond at least, so resting after every step would rest far more than the duty asks.
   */
  const rester = () => {
    let owedMs = 0;
    return async (stepStarted: number) => {
      if (options.dutyPercent >= 100) return;
      owedMs += ((performance.now() - stepStarted) * (100 - options.dutyPercent)) / options.dutyPercent;
      if (owedMs < REST_AT_LEAST_MS) return;
      const restStarted = performance.now();
      await sleep(owedMs);
      owedMs -= performance.now() - restStarted;
    };
  };

  /**
   * Walks every group once from a random start. A group that fails is left (its mark stays, so its
   * next sweep reports it) and the walk goes on; a failure to take a lease (Redis away) ends the walk.
   */
  async function walk(run: SweepRun, keepGoing: () => boolean): Promise<GroupFailure[]> {
    const failures: GroupFailure[] = [];
    const start = randomInt(lease.groups);
    for (let i = 0; i < lease.groups; i++) {
      if (outOfBudget(run)) {
        run.summary.budgetExhausted = true;
        break;
      }
      if (!keepGoing()) {
        run.interrupted = true;
        break;
      }
      const group = (start + i) % lease.groups;
      let taken: boolean;
      try {
        taken = await lease.acquire(group, run.tick);
      } catch (error) {
        failures.push({ group, error });
        break;
      }
      if (!taken) continue;
      try {
        await sweepGroup(run, group, keepGoing);
      } catch (error) {
        failures.push({ group, error });
      } finally {
        // Releasing is a courtesy: a lease left behind expires, and this replica sends it again first.
        await lease.release(group).catch((error) => logger.debug({ group, err: error }, "sweep lease not released"));
      }
    }
    run.summary.durationMs = Math.round(performance.now() - run.startedAt);
    return failures;
  }

  async function sweepGroup(run: SweepRun, group: number, keepGoing: () => boolean): Promise<void> {
    const { tick, summary } = run;
    const startedAt = performance.now();
    const before = { ...summary };
    try {
      const unfinished = await lease.markSweepStart(group);
      if (unfinished) {
        logger.warn(
          { tick, group, holder: unfinished.holder, startedAt: unfinished.startedAt.toISOString() },
          "previous sweep did not finish",
        );
      }
    } catch (error) {
      logger.warn({ tick, group, err: error }, "could not mark the sweep as started; sweeping anyway");
    }
    // A lost lease stops this group's sweep after its current step; the walk goes on with the next group.
    const going = () => {
      if (!keepGoing()) {
        run.interrupted = true;
        return false;
      }
      if (outOfBudget(run)) {
        summary.budgetExhausted = true;
        return false;
      }
      return lease.holds(group);
    };
    if (group === 0) await drainLegacy(run, going);
    const dueSlots = going() ? await store.findDueSlots(groupSlots[group] as number[]) : [];
    await sweepSlots(run, dueSlots, going);
    summary.groupsSwept++;
    summary.groups.push(group);
    logger.debug(
      {
        tick,
        group,
        dueSlots: dueSlots.length,
        usersScanned: summary.usersScanned - before.usersScanned,
        sessionsDeleted: summary.sessionsDeleted - before.sessionsDeleted,
        hashesDeleted: summary.hashesDeleted - before.hashesDeleted,
        durationMs: Math.round(performance.now() - startedAt),
      },
      "group swept",
    );
    // Cleared only once the group's sweep ended on its own terms: a mark left behind is the trace of one that did not.
    await lease.clearSweepMark(group).catch((error) => logger.debug({ group, err: error }, "sweep mark not cleared"));
  }

  /** Users of the single activity set of older releases, moved into their shards, `batchSize` at a time. */
  async function drainLegacy(run: SweepRun, going: () => boolean): Promise<void> {
    const rest = rester();
    let moved = 0;
    while (going()) {
      const stepStarted = performance.now();
      const step = await store.drainLegacyActivity(batchSize);
      moved += step;
      if (step < batchSize) break;
      await rest(stepStarted);
    }
    if (moved > 0) logger.info({ tick: run.tick, moved }, "moved users from the legacy activity set into their shards");
  }

  /**
   * `concurrency` lanes, each taking the next due slot and sweeping its shard in steps of up to
   * `batchSize` users until it has none due (a step returned fewer), then the next slot, until none is
   * left or `going()` says stop. A step is session-core's: atomic per 128 users (claim, clean each user
   * on its own, re-add the still-live ones).
   */
  async function sweepSlots(run: SweepRun, dueSlots: number[], going: () => boolean): Promise<void> {
    const { summary } = run;
    let next = 0;
    let finished = false;
    const lane = async () => {
      const rest = rester();
      let slot: number | undefined;
      while (!finished) {
        if (slot === undefined) {
          if (next >= dueSlots.length) break;
          slot = dueSlots[next++] as number;
        }
        if (!going()) {
          finished = true;
          break;
        }
        const stepStarted = performance.now();
        const step = await store.sweepSlot(slot, batchSize);
        summary.usersScanned += step.usersCleaned;
        summary.sessionsDeleted += step.sessionsDeleted;
        summary.hashesDeleted += step.hashesDeleted;
        logger.debug({ slot, step: step.usersCleaned, usersScanned: summary.usersScanned }, "sweep progress");
        if (step.usersCleaned < batchSize) slot = undefined;
        const more = slot !== undefined || next < dueSlots.length;
        if (more) await rest(stepStarted);
      }
    };
    try {
      await Promise.all(Array.from({ length: options.concurrency }, lane));
    } finally {
      finished = true;
    }
  }

  async function sweep({ tick = `manual:${randomUUID()}`, keepGoing = () => true }: SweepOptions = {}) {
    const run = newRun(tick);
    const failures = await walk(run, () => !stopping && keepGoing());
    if (failures.length > 0) throw (failures[0] as GroupFailure).error;
    return run.summary;
  }

  const task: ScheduledTask = createTask(
    options.cron,
    async (context) => {
      // A walk may outlast the interval (its budget is the limit): the ticks meanwhile are skipped, as expected.
      if (inFlight) {
        logger.debug({ tick: context.date.toISOString(), running: inFlight.run.tick }, "previous tick still sweeping");
        return;
      }
      const run = newRun(context.date.toISOString());
      const done = (async () => {
        const failures = await walk(run, () => !stopping);
        for (const { group, error } of failures) {
          repeats.log("error", { tick: run.tick, group, err: error }, "sweep failed; the next tick retries");
        }
        if (run.summary.groupsSwept > 0) metrics.sweepFinished(run.summary);
        if (run.interrupted && stopping) reportInterrupted(run, "shutdown: stopped after its current step");
        else if (run.summary.groupsSwept > 0) logger.info({ tick: run.tick, ...run.summary }, "sweep finished");
        else logger.debug({ tick: run.tick, failedGroups: failures.length }, "no group swept in this tick");
      })();
      inFlight = { run, done };
      try {
        await done;
      } catch (error) {
        repeats.log("error", { tick: run.tick, err: error }, "sweep failed; the next tick retries");
      } finally {
        inFlight = null;
      }
    },
    {
      name: "session-sweeper",
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
      // The sweep in flight ends after its current step; what is left waits for the next tick (any replica).
      const deadline = performance.now() + timeoutMs;
      const left = () => Math.max(0, deadline - performance.now());
      stopping = true;
      await task.stop();
      const current = inFlight;
      let ended = true;
      if (current && !(await settlesWithin(current.done, left()))) {
        ended = false;
        reportInterrupted(current.run, "shutdown deadline: its current step had not returned");
      }
      await task.destroy();
      repeats.flush();
      // Releasing the leases is a courtesy: if Redis does not answer in time, they expire by themselves.
      const release = lease.releaseAll();
      if (!(await settlesWithin(release, left()))) logger.debug("sweep leases not released in time; they expire");
      return ended;
    },
  };

  function reportInterrupted(run: SweepRun, reason: string): void {
    if (run.reported) return;
    run.reported = true;
    const durationMs = Math.round(performance.now() - run.startedAt);
    logger.warn({ tick: run.tick, reason, ...run.summary, durationMs }, "sweep interrupted by shutdown");
  }
}
