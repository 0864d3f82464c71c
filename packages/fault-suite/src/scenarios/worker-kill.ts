/**
 * worker-kill: `kill -9` of the worker while it sweeps and while it runs
 * deletion jobs, cycle after cycle, then two worker replicas at once that
 * must finish the work (stalled jobs included) between them, never sweeping
 * one slot group at the same time nor twice in one tick.
 *
 * Each cycle seeds users with sessions that expire within seconds (some
 * users also hold a week-long session, which must survive every cleanup),
 * starts a worker with a slow sweep (small steps, low duty), waits until it
 * is mid-sweep (its "sweep progress" log), reads half of the expired
 * sessions (each read enqueues a deletion job) and kills the worker once
 * it has jobs active.
 * Afterwards: nothing acknowledged lost or undone, nothing dangling (no
 * expired record, no empty hash, no due entry in any activity shard), no job
 * failed for good, and no slot group swept by both replicas at once or twice
 * in one tick.
 */
import { DEFAULTS, SessionExpiredError, sessionKeyOf } from "@multisession/session-core";
import type { LogLine, ServiceProcess } from "@multisession/test-kit";
import { checkInvariants, countDueActivity, type Violation } from "../invariants.js";
import { Ledger } from "../ledger.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import {
  connectDirect,
  connectLibrary,
  FaultyRedis,
  type LibraryClient,
  namespaceFor,
  sleep,
  startWorker,
  waitFor,
} from "../stack.js";

/**
 * The long form's killed workers leave a backlog (each lives a second or two): its replicas sweep in bigger
 * steps and take more jobs at once, so that they drain it within the limit.
 */
export const WORKER_KILL_SIZES = {
  short: {
    kills: 2,
    usersPerCycle: 1_000,
    finalUsers: 1_000,
    replicas: { SWEEP_BATCH_SIZE: "20", SWEEP_DUTY_PERCENT: "5", CONCURRENCY: "2" },
    drainLimitMs: 60_000,
  },
  long: {
    kills: 15,
    usersPerCycle: 2_000,
    finalUsers: 2_000,
    replicas: { SWEEP_BATCH_SIZE: "100", SWEEP_DUTY_PERCENT: "25", CONCURRENCY: "20" },
    drainLimitMs: 180_000,
  },
};

/** Sessions of the seeded "expiring" kind live this long. */
const EXPIRING_MS = 2_000;
/** A sweep of small steps with long rests (1% duty: a step's work, then 99 times as long at rest), so a kill lands mid-sweep. */
const KILLED_WORKER_ENV = {
  SWEEP_CRON: "* * * * * *",
  SWEEP_BATCH_SIZE: "10",
  SWEEP_DUTY_PERCENT: "1",
  SWEEP_LEASE_MS: "1500",
  CONCURRENCY: "2",
  LOG_LEVEL: "debug",
};
const SEED_CONCURRENCY = 32;

interface Seeded {
  expiring: { userId: string; token: string }[];
}

/** Seeds `users` users: two expiring sessions each, and every third user a week-long one too (in the ledger). */
async function seed(
  expiring: LibraryClient,
  lasting: LibraryClient,
  ledger: Ledger,
  tag: string,
  users: number,
): Promise<Seeded> {
  const seeded: Seeded = { expiring: [] };
  let next = 0;
  const lane = async () => {
    while (next < users) {
      const index = next++;
      const userId = `${tag}-${index}`;
      for (let n = 0; n < 2; n++) {
        const { token } = await expiring.store.create(userId, { device: { name: "expiring" } });
        seeded.expiring.push({ userId, token });
      }
      if (index % 3 === 0) {
        const { sessionId, session } = await lasting.store.create(userId, { device: { name: "lasting" } });
        ledger.created(userId, sessionKeyOf(sessionId), session.expiresAt);
        // Every ninth user logs that session out again: an acknowledged removal to check.
        if (index % 9 === 0) {
          await lasting.store.remove(userId, sessionId);
          ledger.removed(userId, sessionKeyOf(sessionId));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, lane));
  return seeded;
}

/** Reads expired sessions: each read rejects and enqueues one deletion job. Returns how many were enqueued. */
async function enqueueDeletions(client: LibraryClient, sessions: { token: string }[]): Promise<number> {
  let enqueued = 0;
  let next = 0;
  const lane = async () => {
    while (next < sessions.length) {
      const { token } = sessions[next++] as { token: string };
      try {
        await client.store.authenticate(token);
      } catch (error) {
        if (error instanceof SessionExpiredError) enqueued++;
      }
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, lane));
  return enqueued;
}

const isSweepProgress = (line: LogLine) => line.msg === "sweep progress";

export async function workerKill(context: ScenarioContext): Promise<ScenarioResult> {
  const size = WORKER_KILL_SIZES[context.form];
  const started = performance.now();
  const namespace = namespaceFor("worker-kill");
  const redis = await FaultyRedis.start();
  const expiring = connectLibrary(redis.url, namespace, {
    idleTimeoutMs: EXPIRING_MS,
    absoluteTimeoutMs: EXPIRING_MS,
    touchIntervalMs: 0,
  });
  const lasting = connectLibrary(redis.url, namespace);
  const direct = connectDirect(redis.url);
  const ledger = new Ledger();
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const workers: ServiceProcess[] = [];
  let operations = 0;
  let midSweepKills = 0;
  let midJobKills = 0;

  /** Seeds users whose sessions expire, and waits until they have. Returns the expired sessions. */
  const seedAndExpire = async (tag: string, users: number) => {
    const seeded = await seed(expiring, lasting, ledger, tag, users);
    operations += users * 2 + Math.ceil(users / 3) + Math.ceil(users / 9);
    await sleep(EXPIRING_MS + 200);
    // Half of the expired sessions will be read: their deletions go through the queue, the rest through the sweep.
    return seeded.expiring.filter((_, index) => index % 2 === 0);
  };

  try {
    for (let kill = 1; kill <= size.kills; kill++) {
      const toRead = await seedAndExpire(`wk${kill}`, size.usersPerCycle);
      const worker = await startWorker(redis.url, namespace, KILLED_WORKER_ENV);
      workers.push(worker);
      // Mid-sweep: a step logged; then deletion jobs arrive while it sweeps; kill once some are active.
      await waitFor(() => worker.logs.some(isSweepProgress), 10_000, 5);
      const reads = enqueueDeletions(expiring, toRead);
      operations += toRead.length;
      await waitFor(async () => ((await expiring.queue.getJobCounts("active")).active ?? 0) > 0, 10_000, 5);
      const midSweep = worker.logs.some(isSweepProgress) && !worker.logs.some((line) => line.msg === "sweep finished");
      const counts = await expiring.queue.getJobCounts("active", "waiting", "completed");
      const due = await countDueActivity(direct, namespace.sessionPrefix);
      worker.child.kill("SIGKILL");
      await worker.exited;
      const enqueued = await reads;
      if (midSweep) midSweepKills++;
      if ((counts.active ?? 0) > 0) midJobKills++;
      rows.push([kill, enqueued, midSweep ? "yes" : "no", counts.active ?? 0, counts.waiting ?? 0, due]);
      context.log(
        `worker-kill ${kill}/${size.kills}: killed ${midSweep ? "mid-sweep" : "outside a sweep"} with ` +
          `${counts.active} jobs active, ${counts.waiting} waiting, ${due} users due`,
      );
    }

    // Two replicas at once take over: a last batch of work, then everything must drain.
    const enqueued = await enqueueDeletions(expiring, await seedAndExpire("wkfinal", size.finalUsers));
    context.log(`worker-kill: two replicas start; ${enqueued} more jobs enqueued`);
    // They sweep faster than the killed ones, but still for seconds, so that both want many of the same groups.
    // At debug they log each group they sweep ("group swept"), which the overlap check reads.
    const replicaEnv = { ...KILLED_WORKER_ENV, ...size.replicas, LOG_LEVEL: "debug" };
    const replicas = await Promise.all([
      startWorker(redis.url, namespace, replicaEnv),
      startWorker(redis.url, namespace, replicaEnv),
    ]);
    workers.push(...replicas);
    const drainStarted = performance.now();
    const drained = await waitFor(
      async () => {
        const counts = await expiring.queue.getJobCounts("active", "waiting", "delayed", "prioritized");
        const pending = Object.values(counts).reduce((sum, n) => sum + n, 0);
        const due = await countDueActivity(direct, namespace.sessionPrefix);
        return pending === 0 && due === 0;
      },
      size.drainLimitMs,
      250,
    );
    const drainMs = performance.now() - drainStarted;
    // A few more ticks with both replicas idle-sweeping, for the overlap check.
    await sleep(3_000);
    const failedJobs = (await expiring.queue.getJobCounts("failed")).failed ?? 0;

    const check = await checkInvariants(direct, {
      prefix: namespace.sessionPrefix,
      ledger,
      maxSessionsPerUser: DEFAULTS.maxSessionsPerUser,
      dangling: true,
    });
    const violations = [...check.violations];
    if (!drained) {
      violations.push({
        invariant: "cleanupFinishes",
        userId: "-",
        detail: `not drained after ${size.drainLimitMs} ms`,
      });
    }
    if (failedJobs > 0) {
      violations.push({ invariant: "cleanupFinishes", userId: "-", detail: `${failedJobs} deletion jobs failed` });
    }
    const overlap = sweepOverlaps(replicas);
    violations.push(...overlap.violations);
    const unfinishedReports = workers
      .flatMap((worker) => worker.logs)
      .filter((line) => line.msg === "previous sweep did not finish").length;

    notes.push(
      `Each cycle seeds ${size.usersPerCycle} users (two sessions of ${EXPIRING_MS} ms each, every third user also a ` +
        "week-long one, every ninth logs it out again), reads half of the expired sessions while the worker sweeps (one deletion job each), " +
        `then starts a worker (sweep steps of ${KILLED_WORKER_ENV.SWEEP_BATCH_SIZE} users at ` +
        `${KILLED_WORKER_ENV.SWEEP_DUTY_PERCENT}% duty, lease ${KILLED_WORKER_ENV.SWEEP_LEASE_MS} ms, ` +
        `${KILLED_WORKER_ENV.CONCURRENCY} jobs at once) and, once it is mid-sweep with deletion jobs active, kills it.`,
      `Killed mid-sweep: ${midSweepKills} of ${size.kills}; with jobs active: ${midJobKills} of ${size.kills}. ` +
        `"previous sweep did not finish" logged ${unfinishedReports} times by the workers that followed.`,
      `Two replicas (sweep steps of ${size.replicas.SWEEP_BATCH_SIZE} users at ${size.replicas.SWEEP_DUTY_PERCENT}% ` +
        `duty, ${size.replicas.CONCURRENCY} jobs at once each) then drained everything (stalled jobs included) in ` +
        `${Math.round(drainMs)} ms; ` +
        `${overlap.sweeps} group sweeps between them (${overlap.perReplica.join(" + ")}), no group swept by both at ` +
        `once, none twice in one tick; ${failedJobs} jobs failed for good.`,
    );
    context.log(`worker-kill: drained in ${Math.round(drainMs)} ms; ${check.violations.length} violations`);
    return {
      name: "worker-kill",
      title: "`kill -9` of the worker mid-sweep and mid-job, then two sweeper replicas",
      form: context.form,
      durationMs: performance.now() - started,
      operations,
      faults: { count: size.kills, what: "kill -9 of the worker" },
      checked: {
        liveSessions: check.liveChecked,
        removals: check.removalsChecked,
        other: `${check.usersChecked} users checked for dangling data`,
      },
      violations,
      incident: null,
      recoveryMs: [drainMs],
      table: {
        header: ["kill", "jobs enqueued", "mid-sweep", "jobs active", "jobs waiting", "users due"],
        rows,
      },
      notes,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await Promise.all([expiring.close(), lasting.close()]);
    direct.disconnect();
    await redis.stop();
  }
}

/**
 * Each replica's "group swept" lines as intervals [end − durationMs, end]:
 * no group may be swept twice in one tick (by either replica), and no two
 * sweeps of one group may overlap (the group lease's promise).
 */
function sweepOverlaps(replicas: ServiceProcess[]) {
  const sweeps = replicas.map((replica, index) =>
    replica.logs
      .filter((line) => line.msg === "group swept")
      .map((line) => ({
        replica: index,
        tick: String(line.tick),
        group: Number(line.group),
        from: line.time - Number(line.durationMs ?? 0),
        to: line.time,
      })),
  );
  const violations: Violation[] = [];
  const all = sweeps.flat();
  const perTick = new Map<string, number>();
  for (const sweep of all) {
    const key = `tick ${sweep.tick} group ${sweep.group}`;
    perTick.set(key, (perTick.get(key) ?? 0) + 1);
  }
  for (const [key, count] of perTick) {
    if (count > 1)
      violations.push({ invariant: "oneSweeperPerGroup", userId: "-", detail: `${key} swept ${count} times` });
  }
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i] as (typeof all)[number];
      const b = all[j] as (typeof all)[number];
      // 1 ms of slack: durations are rounded to the millisecond.
      if (a.group === b.group && a.from < b.to - 1 && b.from < a.to - 1) {
        violations.push({
          invariant: "oneSweeperPerGroup",
          userId: "-",
          detail: `sweeps of group ${a.group} in ticks ${a.tick} and ${b.tick} overlap`,
        });
      }
    }
  }
  return { violations, sweeps: all.length, perReplica: sweeps.map((list) => list.length) };
}
