import { DELETE_EXPIRED_SESSION_JOB } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide } from "./support/sessions.js";
import { eventually, startWorker, type WorkerProcess } from "./support/worker.js";

// A job left active by a worker that died is taken back once its lock expires and the stalled check
// sees it: JOB_LOCK_MS (10 s) plus at most two STALLED_CHECK_MS (5 s) rounds, well within this bound.
// BullMQ's defaults (30 s lock, 30 s checks) took 61 to 91 s.
const RECOVERY_BOUND_MS = 30_000;
const JOBS = 20_000;
let side: SessionSide;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  side = openSessionSide(inject("redisUrl"));
  // Deletion jobs for sessions that do not exist: each runs in well under a millisecond.
  for (let start = 0; start < JOBS; start += 1_000) {
    await side.queue.addBulk(
      Array.from({ length: 1_000 }, (_, i) => ({
        name: DELETE_EXPIRED_SESSION_JOB,
        data: { userId: `gone-${start + i}`, sessionKey: "A".repeat(43), expiresAt: 0 },
      })),
    );
  }
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
  await side.close();
});

describe("stalled-job recovery", () => {
  it("the jobs a worker was running when it was SIGKILLed are completed by another worker within the bound", async () => {
    const env = { ...side.workerEnv, SWEEP_CRON: "0 0 1 1 *", CONCURRENCY: "50" };
    const killed = await startWorker(env);
    workers.push(killed);
    await eventually(async () => ((await side.queue.getJobCounts("completed")).completed ?? 0) > 200, 20_000, 5);
    await killed.stop("SIGKILL");
    const killedAt = Date.now();
    const orphans = (await side.queue.getActive()).map((job) => String(job.id));
    expect(orphans.length).toBeGreaterThan(0);

    workers.push(await startWorker(env));
    await eventually(
      async () => {
        const states = await Promise.all(orphans.map((id) => side.queue.getJobState(id)));
        return states.every((state) => state === "completed");
      },
      RECOVERY_BOUND_MS - (Date.now() - killedAt),
      250,
    );
    expect(Date.now() - killedAt).toBeLessThan(RECOVERY_BOUND_MS);
    expect((await side.queue.getJobCounts("failed")).failed).toBe(0);
  });
});
