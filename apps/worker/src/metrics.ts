/**
 * What the worker counts, for Prometheus (`/metrics`) and small dashboards
 * (`/stats`, the same numbers as JSON). Counters are this process's since it
 * started; queue job counts are read from Redis at scrape time, so every
 * replica reports the same queue.
 */
import type { Queue } from "bullmq";
import { Counter, Gauge, Registry } from "prom-client";

export const JOB_STATES = [
  "waiting",
  "active",
  "delayed",
  "completed",
  "failed",
  "prioritized",
  "waiting-children",
] as const;

const QUEUE_READ_TIMEOUT_MS = 1_000;

export interface SweepSummary {
  usersScanned: number;
  sessionsDeleted: number;
  hashesDeleted: number;
  /** How many slot groups this replica took and swept in the tick. */
  groupsSwept: number;
  /** Those groups, in the order it took them. */
  groups: number[];
  durationMs: number;
  /** True when the time budget ran out before nothing due was left. */
  budgetExhausted: boolean;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(queue: Queue) {
  const registry = new Registry();
  const queueJobs = new Gauge({
    name: "multisession_cleanup_queue_jobs",
    help: "Jobs in the session-cleanup queue, per state (read from Redis at scrape time).",
    labelNames: ["state"],
    registers: [registry],
  });
  const jobs = new Counter({
    name: "multisession_cleanup_jobs_total",
    help: "Deletion jobs this process finished, by result (completed or failed).",
    labelNames: ["result"],
    registers: [registry],
  });
  const jobSessionsDeleted = new Counter({
    name: "multisession_cleanup_sessions_deleted_total",
    help: "Expired sessions deleted by deletion jobs.",
    registers: [registry],
  });
  const sweeps = new Counter({
    name: "multisession_sweeper_runs_total",
    help: "Sweep ticks in which this process swept at least one slot group.",
    registers: [registry],
  });
  const usersScanned = new Counter({
    name: "multisession_sweeper_users_scanned_total",
    help: "Users the sweeper claimed and cleaned.",
    registers: [registry],
  });
  const sweptSessions = new Counter({
    name: "multisession_sweeper_sessions_deleted_total",
    help: "Expired or corrupt sessions the sweeper deleted.",
    registers: [registry],
  });
  const sweptHashes = new Counter({
    name: "multisession_sweeper_hashes_deleted_total",
    help: "Dangling user hashes the sweeper deleted.",
    registers: [registry],
  });
  const groupsSwept = new Counter({
    name: "multisession_sweeper_groups_swept_total",
    help: "Slot groups this process took and swept.",
    registers: [registry],
  });
  const lastGroupsSwept = new Gauge({
    name: "multisession_sweeper_last_groups_swept",
    help: "Slot groups this process swept in its last sweep's tick.",
    registers: [registry],
  });
  const lastDuration = new Gauge({
    name: "multisession_sweeper_last_duration_seconds",
    help: "How long this process's last sweep took (its walk over the groups of one tick).",
    registers: [registry],
  });
  const lastRun = new Gauge({
    name: "multisession_sweeper_last_run_timestamp_seconds",
    help: "When the last sweep finished (Unix time); 0 before the first.",
    registers: [registry],
  });
  const leaseHeld = new Gauge({
    name: "multisession_sweeper_lease_held",
    help: "1 while this process holds a slot group's sweep lease.",
    registers: [registry],
  });
  const redisUp = new Gauge({
    name: "multisession_redis_up",
    help: "1 if Redis answered the last scrape's queue read.",
    registers: [registry],
  });

  // Start every series at 0 so dashboards see them before the first event.
  for (const result of ["completed", "failed"]) jobs.inc({ result }, 0);

  let lastSweep: (SweepSummary & { finishedAt: number }) | null = null;
  let counts: Record<string, number> = Object.fromEntries(JOB_STATES.map((state) => [state, 0]));

  async function refreshQueueCounts(): Promise<void> {
    // The queue's connection waits out outages (maxRetriesPerRequest: null): a scrape must not.
    let timer: NodeJS.Timeout | undefined;
    try {
      counts = await Promise.race([
        queue.getJobCounts(...JOB_STATES),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("queue read timed out")), QUEUE_READ_TIMEOUT_MS);
        }),
      ]);
      redisUp.set(1);
    } catch {
      redisUp.set(0); // keep the last known counts
    } finally {
      clearTimeout(timer);
    }
    for (const state of JOB_STATES) queueJobs.set({ state }, counts[state] ?? 0);
  }

  return {
    registry,
    jobCompleted(deletedSession: boolean) {
      jobs.inc({ result: "completed" });
      if (deletedSession) jobSessionsDeleted.inc();
    },
    jobFailed() {
      jobs.inc({ result: "failed" });
    },
    sweepFinished(summary: SweepSummary) {
      sweeps.inc();
      usersScanned.inc(summary.usersScanned);
      sweptSessions.inc(summary.sessionsDeleted);
      sweptHashes.inc(summary.hashesDeleted);
      groupsSwept.inc(summary.groupsSwept);
      lastGroupsSwept.set(summary.groupsSwept);
      lastDuration.set(summary.durationMs / 1000);
      lastSweep = { ...summary, finishedAt: Date.now() };
      lastRun.set(lastSweep.finishedAt / 1000);
    },
    setLeaseHeld(held: boolean) {
      leaseHeld.set(held ? 1 : 0);
    },
    /** Prometheus text format. */
    async prometheus(): Promise<string> {
      await refreshQueueCounts();
      return registry.metrics();
    },
    /** The same numbers as JSON. */
    async stats() {
      await refreshQueueCounts();
      const value = async (metric: Counter | Gauge, labels?: Record<string, string>) => {
        const { values } = await metric.get();
        return values.find((v) => !labels || Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
      };
      return {
        queue: { name: queue.name, jobs: counts },
        jobs: {
          completed: await value(jobs, { result: "completed" }),
          failed: await value(jobs, { result: "failed" }),
          sessionsDeleted: await value(jobSessionsDeleted),
        },
        sweeper: {
          runs: await value(sweeps),
          usersScanned: await value(usersScanned),
          sessionsDeleted: await value(sweptSessions),
          hashesDeleted: await value(sweptHashes),
          groupsSwept: await value(groupsSwept),
          leaseHeld: (await value(leaseHeld)) === 1,
          lastRun: lastSweep,
        },
        redisUp: (await value(redisUp)) === 1,
      };
    },
  };
}
