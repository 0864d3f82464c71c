/**
 * The worker's tunable numbers, with their defaults and bounds, in one frozen
 * table: the environment (config.ts, for the bin) and `startCleanupWorker`'s
 * options (for a server that runs the worker in-process) are checked against
 * the same ranges.
 */
import { MAX_SLOT_GROUPS } from "./sweeper/slot-groups.js";

export interface IntegerSetting {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export const WORKER_SETTINGS = Object.freeze({
  /** Deletion jobs processed at once (CONCURRENCY). */
  concurrency: { default: 10, min: 1, max: 1_000 },
  /** Users claimed from one activity shard per sweep step (SWEEP_BATCH_SIZE). */
  sweepBatchSize: { default: 500, min: 1, max: 10_000 },
  /** Sweep steps in flight at once (SWEEP_CONCURRENCY). */
  sweepConcurrency: { default: 1, min: 1, max: 64 },
  /** Share of a sweep's wall time spent in Redis calls, in percent (SWEEP_DUTY_PERCENT). */
  sweepDutyPercent: { default: 50, min: 1, max: 100 },
  /** A tick's sweep starts no new step after this long (SWEEP_BUDGET_MS). */
  sweepBudgetMs: { default: 20_000, min: 100, max: 3_600_000 },
  /** Slot groups, each swept under its own lease; the same on every replica (SWEEP_SLOT_GROUPS). */
  sweepSlotGroups: { default: 16, min: 1, max: MAX_SLOT_GROUPS },
  /** A group's sweep lease TTL (SWEEP_LEASE_MS). */
  sweepLeaseMs: { default: 30_000, min: 1_000, max: 3_600_000 },
  /** The whole shutdown's budget (SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs: { default: 10_000, min: 0, max: 600_000 },
} satisfies Record<string, IntegerSetting>);

export type IntegerSettingName = keyof typeof WORKER_SETTINGS;

/** When the sweeper runs unless told otherwise: every minute. */
export const DEFAULT_SWEEP_CRON = "* * * * *";
