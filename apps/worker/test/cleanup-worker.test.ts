import {
  DELETE_EXPIRED_SESSION_JOB,
  encodeRecord,
  SessionExpiredError,
  sessionKeyOf,
  userKey,
} from "@multisession/session-core";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson, startWorker, type WorkerProcess } from "./support/worker.js";

let side: SessionSide;
let worker: WorkerProcess;
beforeEach(async () => {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 });
  // A cron that never fires during the test: only the consumer acts here.
  worker = await startWorker({ ...side.workerEnv, SWEEP_CRON: "0 0 1 1 *" });
});
afterEach(async () => {
  await worker.stop();
  await side.close();
});

describe("the cleanup consumer", () => {
  it("an expired read's job deletes the session", async () => {
    const keep = await side.storeWith({ idleTimeoutMs: 60_000 }).create("reader");
    const { sessionId } = await side.store.create("reader");
    await sleep(350);
    await expect(side.store.get("reader", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    const key = userKey(side.prefix, "reader");
    await eventually(async () => (await side.redis.hexists(key, sessionKeyOf(sessionId))) === 0);
    expect(await side.redis.hexists(key, sessionKeyOf(keep.sessionId))).toBe(1);
    await eventually(async () => (await side.queue.getJobCounts()).completed === 1);
  });

  it("a job for a session renewed meanwhile deletes nothing", async () => {
    const { sessionId, session } = await side.store.create("renewer");
    await sleep(350);
    // Hold the job back (queue paused) while the session is renewed, then let the worker run it.
    await side.queue.pause();
    await expect(side.store.get("renewer", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    expect(await side.queue.getJobs(["waiting"])).toHaveLength(1);
    const now = Date.now();
    const renewed = encodeRecord(
      { createdAt: session.createdAt, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 60_000 },
      {},
      {},
    );
    await side.redis.hset(userKey(side.prefix, "renewer"), sessionKeyOf(sessionId), renewed);
    await side.queue.resume();
    await eventually(async () => (await side.queue.getJobCounts()).completed === 1);
    const [job] = await side.queue.getJobs(["completed"]);
    expect(job?.returnvalue).toEqual({ deletedSession: false, deletedHash: false });
    await expect(side.storeWith({ idleTimeoutMs: 60_000 }).get("renewer", sessionId)).resolves.toBeTruthy();
  });

  it("a job that is delivered twice deletes once and never errs", async () => {
    const { sessionId } = await side.store.create("twice");
    await sleep(350);
    const data = { userId: "twice", sessionKey: sessionKeyOf(sessionId), expiresAt: Date.now() };
    await side.queue.addBulk([
      { name: DELETE_EXPIRED_SESSION_JOB, data },
      { name: DELETE_EXPIRED_SESSION_JOB, data },
    ]);
    await eventually(async () => (await side.queue.getJobCounts()).completed === 2);
    const results = (await side.queue.getJobs(["completed"])).map((job) => job.returnvalue.deletedSession).sort();
    expect(results).toEqual([false, true]);
  });

  it("a malformed job fails at once instead of retrying", async () => {
    await side.queue.add(DELETE_EXPIRED_SESSION_JOB, { userId: "a{b}", sessionKey: "nope" }, { attempts: 5 });
    await eventually(async () => (await side.queue.getJobCounts()).failed === 1);
    const [job] = await side.queue.getJobs(["failed"]);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/malformed job data: userId/);
  });

  it("/stats and /metrics count the jobs this test caused", async () => {
    const created = await Promise.all(Array.from({ length: 5 }, (_, i) => side.store.create(`m${i}`)));
    await sleep(350);
    await Promise.allSettled(created.map((c, i) => side.store.get(`m${i}`, c.sessionId)));
    await side.queue.add(DELETE_EXPIRED_SESSION_JOB, { userId: "bad{", sessionKey: "x" });
    await eventually(async () => {
      const counts = await side.queue.getJobCounts();
      return counts.completed === 5 && counts.failed === 1;
    });
    const { status, body } = await getJson(worker.url("/stats"));
    expect(status).toBe(200);
    expect(body.jobs).toEqual({ completed: 5, failed: 1, sessionsDeleted: 5 });
    expect((body.queue as { jobs: Record<string, number> }).jobs).toMatchObject({
      completed: 5,
      failed: 1,
      waiting: 0,
    });
    const metrics = await (await fetch(worker.url("/metrics"))).text();
    expect(metrics).toContain('multisession_cleanup_jobs_total{result="completed"} 5');
    expect(metrics).toContain('multisession_cleanup_jobs_total{result="failed"} 1');
    expect(metrics).toContain("multisession_cleanup_sessions_deleted_total 5");
    expect(metrics).toContain('multisession_cleanup_queue_jobs{state="completed"} 5');
  });
});
