/**
 * The bound on expired-read jobs (cleanup-job.ts): with no worker consuming
 * the queue, expired reads (which ask deletionJobAdmitted before they
 * enqueue) stop at maxPendingDeletionJobs pending jobs, whatever the
 * number of expired sessions; the sweep still deletes the sessions whose jobs
 * were refused.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deduplicationIdOf, deletionJobAdmitted, PENDING_COUNT_TTL_MS } from "../src/cleanup-job.js";
import { DEFAULTS, SessionExpiredError, sessionKeyOf, userKey } from "../src/index.js";
import { ALL_SLOTS } from "./support/slots.js";
import { openStore, type StoreContext, sleep } from "./support/store-context.js";

describe("deduplicationIdOf", () => {
  it("gives one session one id, distinct sessions distinct ids, each a job id BullMQ accepts", () => {
    const keys = Array.from({ length: 1_000 }, () => sessionKeyOf(randomBytes(32).toString("base64url")));
    expect(deduplicationIdOf(keys[0] as string)).toBe(deduplicationIdOf(keys[0] as string));
    expect(new Set(keys.map(deduplicationIdOf)).size).toBe(keys.length);
    for (const key of keys) expect(deduplicationIdOf(key)).not.toContain(":");
  });
});

describe("expired reads with no worker running", () => {
  // The store's maxPendingDeletionJobs, kept small so the test is quick; the default is checked below.
  const LIMIT = 1_000;
  const SESSIONS = LIMIT + 500;
  let ctx: StoreContext;
  const sessions: { userId: string; sessionId: string; expiresAt: number }[] = [];
  beforeAll(async () => {
    ctx = await openStore({
      idleTimeoutMs: 500,
      absoluteTimeoutMs: 60_000,
      touchIntervalMs: 0,
      maxPendingDeletionJobs: LIMIT,
    });
    for (let start = 0; start < SESSIONS; start += 500) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(500, SESSIONS - start) }, async (_, i) => {
          const userId = `capped-${start + i}`;
          const { sessionId, session } = await ctx.store.create(userId);
          return { userId, sessionId, expiresAt: session.expiresAt };
        }),
      );
      sessions.push(...batch);
    }
    await sleep(600);
    // Every session read, 500 at once, each twice: every read rejects, whether its job was added or not.
    for (let start = 0; start < SESSIONS; start += 500) {
      const batch = sessions.slice(start, start + 500);
      const outcomes = await Promise.allSettled([...batch, ...batch].map((s) => ctx.store.get(s.userId, s.sessionId)));
      for (const outcome of outcomes) {
        expect(outcome.status === "rejected" && outcome.reason instanceof SessionExpiredError).toBe(true);
      }
    }
  }, 120_000);
  afterAll(() => ctx.close());

  it("by default, stop at 10,000 pending jobs", () => {
    expect(DEFAULTS.maxPendingDeletionJobs).toBe(10_000);
  });

  it("stop at maxPendingDeletionJobs pending jobs, one per session", async () => {
    const counts = await ctx.queue.getJobCounts("waiting", "delayed", "prioritized", "active");
    const pending = Object.values(counts).reduce((sum, count) => sum + count, 0);
    expect(SESSIONS).toBeGreaterThan(LIMIT);
    // One process asking: exactly the bound, never past it.
    expect(pending).toBe(LIMIT);
    expect(ctx.logs.filter((line) => line.level === "error")).toEqual([]);
    const jobs = await ctx.queue.getJobs(["waiting"], 0, -1);
    expect(new Set(jobs.map((job) => job.data.sessionKey)).size).toBe(jobs.length);
  });

  it("admit again once the queue has room, at the next count", async () => {
    const another = () => sessionKeyOf(randomBytes(32).toString("base64url"));
    expect(await deletionJobAdmitted(ctx.queue, another(), LIMIT)).toBe(false);
    const [first] = await ctx.queue.getJobs(["waiting"], 0, 0);
    await first?.remove();
    // Past the count's lifetime it is read again: one job's room, for one job.
    await sleep(PENDING_COUNT_TTL_MS + 100);
    const admitted = another();
    expect(await deletionJobAdmitted(ctx.queue, admitted, LIMIT)).toBe(true);
    // The same session again is admitted (BullMQ deduplicates its job); any other is not.
    expect(await deletionJobAdmitted(ctx.queue, admitted, LIMIT)).toBe(true);
    expect(await deletionJobAdmitted(ctx.queue, another(), LIMIT)).toBe(false);
  });

  it("the sweep deletes every expired session, those whose jobs were refused included", async () => {
    const queued = new Set((await ctx.queue.getJobs(["waiting"], 0, -1)).map((job) => job.data.sessionKey as string));
    const refusedSessions = sessions.filter(({ sessionId }) => !queued.has(sessionKeyOf(sessionId)));
    expect(refusedSessions.length).toBeGreaterThanOrEqual(SESSIONS - LIMIT);

    let deleted = 0;
    for (const slot of await ctx.store.findDueSlots(ALL_SLOTS)) {
      for (;;) {
        const step = await ctx.store.sweepSlot(slot, 1_000);
        deleted += step.sessionsDeleted;
        if (step.usersCleaned < 1_000) break;
      }
    }
    expect(deleted).toBe(SESSIONS);
    const pipeline = ctx.redis.pipeline();
    for (const { userId } of sessions) pipeline.exists(userKey(ctx.prefix, userId));
    const exists = (await pipeline.exec())?.map(([, value]) => value);
    expect(exists?.filter((value) => value !== 0)).toEqual([]);
  });
});
