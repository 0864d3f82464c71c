import { findFreePort } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CLEANUP_QUEUE_NAME,
  DELETE_EXPIRED_SESSION_JOB,
  SessionExpiredError,
  SessionStore,
  sessionKeyOf,
  userKey,
} from "../../src/index.js";
import { forEachTopology, openStore, type StoreContext, sleep } from "../support/store-context.js";

forEachTopology((topology) => {
  let ctx: StoreContext;
  beforeEach(async () => {
    ctx = await openStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 900, touchIntervalMs: 0 }, topology);
  });
  afterEach(() => ctx.close());

  const pendingJobs = (queue: Queue) => queue.getJobs(["waiting", "delayed", "prioritized", "active"]);

  describe("idle and absolute expiry", () => {
    it("an idle session expires after idleTimeoutMs without reads", async () => {
      const { sessionId } = await ctx.store.create("idle-user");
      await sleep(350);
      await expect(ctx.store.get("idle-user", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    });

    it("reads keep a session alive past its idle timeout, but never past the absolute one", async () => {
      // Timeouts generous enough that a loaded machine's pauses between reads stay under the idle timeout.
      const store = ctx.another({ idleTimeoutMs: 1_000, absoluteTimeoutMs: 2_500, touchIntervalMs: 0 });
      const { sessionId, session } = await store.create("busy-user");
      let lastAlive = session.createdAt;
      let expired: SessionExpiredError | undefined;
      for (let i = 0; i < 40 && !expired; i++) {
        await sleep(150);
        try {
          lastAlive = (await store.get("busy-user", sessionId)).lastSeenAt;
        } catch (error) {
          expired = error as SessionExpiredError;
        }
      }
      expect(expired).toBeInstanceOf(SessionExpiredError);
      expect(lastAlive - session.createdAt).toBeGreaterThan(1_000); // outlived the idle timeout thanks to reads
      expect(expired?.expiredAt).toBe(session.createdAt + 2_500); // and stopped at the absolute one
    });

    it("each device expires on its own time", async () => {
      const kiosk = await ctx.store.create("two-devices"); // idle 300 ms
      const phone = await ctx.another({ idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000 }).create("two-devices");
      await sleep(350);
      await expect(ctx.store.get("two-devices", kiosk.sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(ctx.store.get("two-devices", phone.sessionId)).resolves.toMatchObject({ userId: "two-devices" });
      expect((await ctx.store.list("two-devices")).map((s) => s.handle)).toEqual([phone.session.handle]);
    });

    it("an expired session cannot be renewed by touch, nor act through setUserInfo or removeOthers", async () => {
      const { sessionId } = await ctx.store.create("late");
      await sleep(350);
      await expect(ctx.store.touch("late", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(ctx.store.setUserInfo("late", sessionId, { a: 1 })).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(ctx.store.removeOthers("late", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    });

    it("keeps the user's hash alive for its latest session plus the grace period, never longer", async () => {
      const store = ctx.another({ idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000, keyGraceMs: 5_000 });
      const { session } = await store.create("ttl-user");
      const expireTime = await ctx.redis.pexpiretime(userKey(ctx.prefix, "ttl-user"));
      expect(expireTime).toBe(session.expiresAt + 5_000);
    });
  });

  describe("expired reads enqueue one deletion job", () => {
    it("rejects with SessionExpiredError and enqueues a job naming the user and the session key", async () => {
      const { sessionId, token, session } = await ctx.store.create("exp-user");
      await sleep(350);
      await expect(ctx.store.authenticate(token)).rejects.toMatchObject({
        code: "ERR_SESSION_EXPIRED",
        expiredAt: session.expiresAt,
      });
      const jobs = await pendingJobs(ctx.queue);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]?.name).toBe(DELETE_EXPIRED_SESSION_JOB);
      expect(jobs[0]?.data).toEqual({
        userId: "exp-user",
        sessionKey: sessionKeyOf(sessionId),
        expiresAt: session.expiresAt,
      });
      expect(JSON.stringify(jobs[0]?.data)).not.toContain(sessionId);
      expect(jobs[0]?.opts.attempts).toBeGreaterThan(1);
    });

    it("20 concurrent reads of one expired session from 20 servers add exactly one job", async () => {
      const { sessionId } = await ctx.store.create("racer");
      await sleep(350);
      const servers = Array.from({ length: 20 }, () => ctx.another());
      const results = await Promise.allSettled(servers.map((server) => server.get("racer", sessionId)));
      expect(results.every((r) => r.status === "rejected" && r.reason instanceof SessionExpiredError)).toBe(true);
      expect(await pendingJobs(ctx.queue)).toHaveLength(1);
      expect((await ctx.queue.getJobCounts()).waiting).toBe(1);
    });

    it("expired sessions of one user get one job each", async () => {
      const a = await ctx.store.create("pair");
      const b = await ctx.store.create("pair");
      await sleep(350);
      await Promise.allSettled([a, b, a, b].map((c) => ctx.store.get("pair", c.sessionId)));
      const keys = (await pendingJobs(ctx.queue)).map((job) => job.data.sessionKey).sort();
      expect(keys).toEqual([sessionKeyOf(a.sessionId), sessionKeyOf(b.sessionId)].sort());
    });

    it("still rejects, and logs, when the queue cannot take the job", async () => {
      const deadPort = await findFreePort();
      const deadConnection = new Redis({ port: deadPort, lazyConnect: true, maxRetriesPerRequest: null });
      deadConnection.on("error", () => {});
      const deadQueue = new Queue(CLEANUP_QUEUE_NAME, { connection: deadConnection, skipWaitingForReady: true });
      deadQueue.on("error", () => {});
      const store = new SessionStore({
        redis: ctx.redis,
        queue: deadQueue,
        prefix: ctx.prefix,
        idleTimeoutMs: 300,
        touchIntervalMs: 0,
        enqueueTimeoutMs: 200,
        logger: {
          debug() {},
          info() {},
          warn() {},
          error: (obj, msg) => ctx.logs.push({ level: "error", obj, msg }),
        },
      });
      const { sessionId } = await store.create("unlucky");
      await sleep(350);
      await expect(store.get("unlucky", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
      const logged = ctx.logs.find((line) => line.level === "error");
      expect(logged?.msg).toMatch(/could not enqueue/);
      expect(JSON.stringify(logged)).not.toContain(sessionId);
      // The store keeps working for everything else.
      await expect(store.create("unlucky")).resolves.toMatchObject({ session: { userId: "unlucky" } });
      deadConnection.disconnect();
      await deadQueue.close().catch(() => {});
    });
  });
});
