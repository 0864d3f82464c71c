/**
 * The bound on expired-read jobs (cleanup-job.ts): with no worker consuming
 * the queue, however many expired sessions are read, at most
 * MAX_PENDING_DELETION_JOBS jobs pend; the sweep still deletes every session
 * whose job was dropped.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deduplicationIdOf, MAX_PENDING_DELETION_JOBS } from "../src/cleanup-job.js";
import { SessionExpiredError, sessionKeyOf, userKey } from "../src/index.js";
import { ALL_SLOTS } from "./support/slots.js";
import { openStore, type StoreContext, sleep } from "./support/store-context.js";

const PENDING_STATES = ["waiting", "delayed", "active", "prioritized"] as const;

describe("deduplicationIdOf", () => {
  it("gives one session key the same id every time, and a job id BullMQ accepts", () => {
    const key = sessionKeyOf(randomBytes(32).toString("base64url"));
    expect(deduplicationIdOf(key)).toBe(deduplicationIdOf(key));
    expect(deduplicationIdOf(key)).not.toContain(":");
  });

  it("spreads any number of session keys over at most MAX_PENDING_DELETION_JOBS ids, using them all", () => {
    const ids = new Set<string>();
    for (let i = 0; i < MAX_PENDING_DELETION_JOBS * 20; i++) {
      ids.add(deduplicationIdOf(sessionKeyOf(randomBytes(24).toString("base64url"))));
    }
    // 20 keys a bucket: an empty bucket has odds of e^-20; an uneven hash would leave many.
    expect(ids.size).toBe(MAX_PENDING_DELETION_JOBS);
  });
});

describe("expired reads with no worker running", () => {
  const READS = MAX_PENDING_DELETION_JOBS + 2_000;
  let ctx: StoreContext;
  const sessions: { userId: string; sessionId: string }[] = [];

  beforeAll(async () => {
    ctx = await openStore({ idleTimeoutMs: 500, absoluteTimeoutMs: 60_000, touchIntervalMs: 0 });
    for (let start = 0; start < READS; start += 500) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(500, READS - start) }, async (_, i) => {
          const userId = `capped-${start + i}`;
          return { userId, sessionId: (await ctx.store.create(userId)).sessionId };
        }),
      );
      sessions.push(...batch);
    }
    await sleep(600);
    for (let start = 0; start < READS; start += 500) {
      const outcomes = await Promise.allSettled(
        sessions.slice(start, start + 500).map(({ userId, sessionId }) => ctx.store.get(userId, sessionId)),
      );
      for (const outcome of outcomes) {
        expect(outcome.status === "rejected" && outcome.reason instanceof SessionExpiredError).toBe(true);
      }
    }
  }, 120_000);
  afterAll(() => ctx.close());

  it("leave at most MAX_PENDING_DELETION_JOBS jobs, one per bucket the sessions fell in", async () => {
    const counts = await ctx.queue.getJobCounts(...PENDING_STATES);
    const pending = PENDING_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    const buckets = new Set(sessions.map(({ sessionId }) => deduplicationIdOf(sessionKeyOf(sessionId))));
    expect(READS).toBeGreaterThan(MAX_PENDING_DELETION_JOBS);
    expect(pending).toBeLessThanOrEqual(MAX_PENDING_DELETION_JOBS);
    expect(pending).toBe(buckets.size);
    // Every read got the same answer whether its job was queued or dropped.
    expect(ctx.logs.filter((line) => line.level === "error")).toEqual([]);
  });

  it("the sweep deletes every expired session, those whose jobs were dropped included", async () => {
    const queued = new Set(
      (await ctx.queue.getJobs(["waiting"], 0, -1)).map((job) => (job.data as { sessionKey: string }).sessionKey),
    );
    const dropped = sessions.filter(({ sessionId }) => !queued.has(sessionKeyOf(sessionId)));
    expect(dropped.length).toBeGreaterThanOrEqual(READS - MAX_PENDING_DELETION_JOBS);

    let deleted = 0;
    for (const slot of await ctx.store.findDueSlots(ALL_SLOTS)) {
      for (;;) {
        const step = await ctx.store.sweepSlot(slot, 1_000);
        deleted += step.sessionsDeleted;
        if (step.usersCleaned < 1_000) break;
      }
    }
    expect(deleted).toBe(READS);
    const pipeline = ctx.redis.pipeline();
    for (const { userId } of sessions) pipeline.exists(userKey(ctx.prefix, userId));
    const exists = (await pipeline.exec())?.map(([, value]) => value);
    expect(exists?.filter((value) => value !== 0)).toEqual([]);
  });
});
