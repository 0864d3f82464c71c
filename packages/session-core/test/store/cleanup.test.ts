import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  activityKey,
  CLEAN_USERS_PER_CALL,
  encodeRecord,
  SessionExpiredError,
  SessionNotFoundError,
  sessionKeyOf,
  userKey,
} from "../../src/index.js";
import { openStore, type StoreContext, sleep } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 60_000, touchIntervalMs: 0 });
});
afterEach(() => ctx.close());

const score = (userId: string) =>
  ctx.redis.zscore(activityKey(ctx.prefix), userId).then((s) => (s === null ? null : Number(s)));

describe("deleteExpiredSession (the deletion job's operation)", () => {
  it("deletes the session an expired read enqueued, and the hash with its last session", async () => {
    const { sessionId } = await ctx.store.create("job-user");
    await sleep(350);
    await expect(ctx.store.get("job-user", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    const [job] = await ctx.queue.getJobs(["waiting"]);
    expect(await ctx.store.deleteExpiredSession(job?.data.userId, job?.data.sessionKey)).toEqual({
      deletedSession: true,
      deletedHash: true,
    });
    await expect(ctx.store.get("job-user", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await ctx.redis.exists(userKey(ctx.prefix, "job-user"))).toBe(0);
  });

  it("a late deletion job after renewal deletes nothing", async () => {
    const { sessionId, session } = await ctx.store.create("renewed");
    await sleep(350);
    await expect(ctx.store.get("renewed", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    const [job] = await ctx.queue.getJobs(["waiting"]);
    // The session is renewed before the job runs (as by a server with a longer idle timeout).
    const now = Date.now();
    const renewed = encodeRecord(
      { createdAt: session.createdAt, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 60_000 },
      {},
      {},
    );
    await ctx.redis.hset(userKey(ctx.prefix, "renewed"), sessionKeyOf(sessionId), renewed);

    expect(await ctx.store.deleteExpiredSession(job?.data.userId, job?.data.sessionKey)).toEqual({
      deletedSession: false,
      deletedHash: false,
    });
    await expect(ctx.store.get("renewed", sessionId)).resolves.toMatchObject({ userId: "renewed" });
  });

  it("never deletes a live session, however often it is called", async () => {
    const live = await ctx.store.create("live");
    for (let i = 0; i < 5; i++) {
      expect((await ctx.store.deleteExpiredSession("live", sessionKeyOf(live.sessionId))).deletedSession).toBe(false);
    }
    await expect(ctx.store.get("live", live.sessionId)).resolves.toBeTruthy();
  });

  it("is a no-op for a session already gone, and rejects a malformed session key", async () => {
    expect(await ctx.store.deleteExpiredSession("ghost", "A".repeat(43))).toEqual({
      deletedSession: false,
      deletedHash: false,
    });
    await expect(ctx.store.deleteExpiredSession("ghost", "secret-looking")).rejects.toMatchObject({
      code: "ERR_INVALID_INPUT",
      field: "sessionKey",
    });
  });
});

describe("activity set", () => {
  it("scores a user at the earliest expiry among their sessions", async () => {
    const first = await ctx.store.create("scored");
    expect(await score("scored")).toBe(first.session.expiresAt);
    await sleep(20);
    await ctx.store.create("scored");
    expect(await score("scored")).toBe(first.session.expiresAt);
  });
});

describe("claimDueUsers and cleanUser (the sweeper's operations)", () => {
  it("claims only due users, earliest first, at most `limit`, and takes them off the set", async () => {
    for (const user of ["d1", "d2", "d3"]) {
      await ctx.store.create(user);
      await sleep(5);
    }
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    await long.create("not-due");
    await sleep(350);
    expect(await ctx.store.claimDueUsers(2)).toEqual(["d1", "d2"]);
    expect(await ctx.store.claimDueUsers(10)).toEqual(["d3"]);
    expect(await ctx.store.claimDueUsers(10)).toEqual([]);
    expect(await score("not-due")).not.toBeNull();
  });

  it("concurrent claimers never get the same user", async () => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => ctx.store.create(`c${i}`)));
    await sleep(350);
    const claims = await Promise.all(Array.from({ length: 8 }, () => ctx.another().claimDueUsers(40)));
    const all = claims.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
  });

  it("cleanUser drops expired sessions, keeps live ones and re-scores the user", async () => {
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    await ctx.store.create("partly");
    await ctx.store.create("partly");
    const kept = await long.create("partly");
    await sleep(350);
    expect(await ctx.store.claimDueUsers(10)).toEqual(["partly"]);
    expect(await ctx.store.cleanUser("partly")).toEqual({
      deletedSessions: 2,
      deletedHash: false,
      nextDueAt: kept.session.expiresAt,
    });
    expect(await score("partly")).toBe(kept.session.expiresAt);
    await expect(long.get("partly", kept.sessionId)).resolves.toBeTruthy();
  });

  it("cleanUser deletes a dangling hash whole, user info included", async () => {
    await ctx.store.create("dangling", { userInfo: { name: "gone" } });
    await ctx.store.create("dangling");
    await sleep(350);
    await ctx.store.claimDueUsers(10);
    expect(await ctx.store.cleanUser("dangling")).toEqual({ deletedSessions: 2, deletedHash: true, nextDueAt: null });
    expect(await ctx.redis.exists(userKey(ctx.prefix, "dangling"))).toBe(0);
    expect(await score("dangling")).toBeNull();
  });

  it("a login racing a sweep is never lost from the activity set", async () => {
    await ctx.store.create("racer");
    await sleep(350);
    expect(await ctx.store.claimDueUsers(10)).toEqual(["racer"]);
    // Sweep deletes the dangling hash, then the user logs in again before anything else happens.
    expect((await ctx.store.cleanUser("racer")).deletedHash).toBe(true);
    const fresh = await ctx.store.create("racer");
    expect(await score("racer")).toBe(fresh.session.expiresAt);

    // Or the login lands between the claim and the clean.
    await sleep(350);
    expect(await ctx.store.claimDueUsers(10)).toEqual(["racer"]);
    const another = await ctx.another({ idleTimeoutMs: 60_000 }).create("racer");
    expect(await ctx.store.cleanUser("racer")).toMatchObject({
      deletedHash: false,
      nextDueAt: another.session.expiresAt,
    });
    expect(await score("racer")).toBe(another.session.expiresAt);
  });

  it("a full sweep leaves every live session, and nothing expired, in place", async () => {
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    const liveSessions: { userId: string; sessionId: string }[] = [];
    for (let i = 0; i < 90; i++) {
      const userId = `mix${i}`;
      const kind = i % 3; // 0: all live, 1: partly expired, 2: all expired
      if (kind !== 2) liveSessions.push({ userId, sessionId: (await long.create(userId)).sessionId });
      if (kind !== 0) await ctx.store.create(userId);
      if (kind === 2) await ctx.store.create(userId);
    }
    await sleep(350);
    let claimed: string[];
    let cleaned = 0;
    do {
      claimed = await ctx.store.claimDueUsers(25);
      for (const userId of claimed) await ctx.store.cleanUser(userId);
      cleaned += claimed.length;
    } while (claimed.length > 0);
    expect(cleaned).toBe(60);
    for (const { userId, sessionId } of liveSessions) await expect(long.get(userId, sessionId)).resolves.toBeTruthy();
    for (let i = 0; i < 90; i++) {
      const key = userKey(ctx.prefix, `mix${i}`);
      expect(await ctx.redis.hlen(key)).toBe(i % 3 === 2 ? 0 : 1);
    }
    expect(await ctx.redis.zcard(activityKey(ctx.prefix))).toBe(60);
  });

  it("cleanUser with reschedule: false leaves re-adding to rescheduleUsers, which never raises a score", async () => {
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    await ctx.store.create("bulk-a");
    const keptA = await long.create("bulk-a");
    const keptB = await long.create("bulk-b");
    await ctx.store.create("bulk-b");
    await sleep(350);
    expect((await ctx.store.claimDueUsers(10)).sort()).toEqual(["bulk-a", "bulk-b"]);
    const a = await ctx.store.cleanUser("bulk-a", { reschedule: false });
    const b = await ctx.store.cleanUser("bulk-b", { reschedule: false });
    expect(a.nextDueAt).toBe(keptA.session.expiresAt);
    expect(await score("bulk-a")).toBeNull();

    // A login meanwhile put bulk-b back with an earlier score: the bulk re-add keeps it.
    await ctx.redis.zadd(activityKey(ctx.prefix), 1, "bulk-b");
    await ctx.store.rescheduleUsers([
      { userId: "bulk-a", dueAt: a.nextDueAt as number },
      { userId: "bulk-b", dueAt: b.nextDueAt as number },
    ]);
    expect(await score("bulk-a")).toBe(keptA.session.expiresAt);
    expect(await score("bulk-b")).toBe(1);
    expect(keptB.session.expiresAt).toBeGreaterThan(1);
    await ctx.store.rescheduleUsers([]);
  });

  it("cleanUsers judges each user on its own across several calls, in input order", async () => {
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    const count = CLEAN_USERS_PER_CALL * 2 + 7;
    const userIds = Array.from({ length: count }, (_, i) => `many${i}`);
    const kept = new Map<string, number>();
    for (const [i, userId] of userIds.entries()) {
      const kind = i % 4; // 0: all live, 1: partly expired, 2: all expired, 3: never existed
      if (kind === 0 || kind === 1) kept.set(userId, (await long.create(userId)).session.expiresAt);
      if (kind === 1 || kind === 2) await ctx.store.create(userId, { userInfo: { i } });
    }
    // A corrupt record counts as dead, like an expired one.
    await ctx.redis.hset(userKey(ctx.prefix, "many1"), "C".repeat(43), "not a record");
    await sleep(350);
    expect((await ctx.store.claimDueUsers(1_000)).length).toBe(
      userIds.filter((_, i) => i % 4 === 1 || i % 4 === 2).length,
    );

    const results = await ctx.store.cleanUsers(userIds);
    expect(results).toHaveLength(count);
    for (const [i, userId] of userIds.entries()) {
      const kind = i % 4;
      const expected =
        kind === 0
          ? { deletedSessions: 0, deletedHash: false, nextDueAt: kept.get(userId) }
          : kind === 1
            ? { deletedSessions: i === 1 ? 2 : 1, deletedHash: false, nextDueAt: kept.get(userId) }
            : kind === 2
              ? { deletedSessions: 1, deletedHash: true, nextDueAt: null }
              : { deletedSessions: 0, deletedHash: false, nextDueAt: null };
      expect(results[i], userId).toEqual(expected);
      expect(await ctx.redis.exists(userKey(ctx.prefix, userId))).toBe(kind < 2 ? 1 : 0);
      expect(await score(userId)).toBe(kind < 2 ? (kept.get(userId) as number) : null);
    }
    expect(await ctx.store.cleanUsers([])).toEqual([]);
  });

  it("sweepDueUsers claims, cleans each user and re-adds the live ones, over several calls, within its limit", async () => {
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    const count = CLEAN_USERS_PER_CALL * 2 + 30;
    const kept = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const userId = `sweep${i}`;
      await ctx.store.create(userId, { userInfo: { i } });
      if (i % 3 === 0) await ctx.store.create(userId);
      if (i % 2 === 0) kept.set(userId, (await long.create(userId)).session.expiresAt);
    }
    await ctx.redis.hset(userKey(ctx.prefix, "sweep1"), "C".repeat(43), "corrupt");
    await sleep(350);

    const first = await ctx.store.sweepDueUsers(10);
    expect(first.usersCleaned).toBe(10);
    const rest = await ctx.store.sweepDueUsers(100_000);
    expect(first.usersCleaned + rest.usersCleaned).toBe(count);
    const expiredSessions = count + Math.ceil(count / 3) + 1;
    expect(first.sessionsDeleted + rest.sessionsDeleted).toBe(expiredSessions);
    expect(first.hashesDeleted + rest.hashesDeleted).toBe(count - kept.size);
    expect(await ctx.store.sweepDueUsers(100)).toEqual({ usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 });

    for (let i = 0; i < count; i++) {
      const userId = `sweep${i}`;
      expect(await score(userId), userId).toBe(kept.get(userId) ?? null);
      expect(await ctx.redis.hlen(userKey(ctx.prefix, userId)), userId).toBe(kept.has(userId) ? 2 : 0);
    }
  });

  it("concurrent sweepers never clean a user twice, and a login racing them is never lost", async () => {
    const users = Array.from({ length: 400 }, (_, i) => `race${i}`);
    for (const userId of users) await ctx.store.create(userId);
    await sleep(350);
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    const logins = new Map<string, number>();
    const [steps] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => ctx.another().sweepDueUsers(60))),
      Promise.all(
        users
          .filter((_, i) => i % 10 === 0)
          .map(async (userId) => logins.set(userId, (await long.create(userId)).session.expiresAt)),
      ),
    ]);
    let cleaned = steps.reduce((sum, step) => sum + step.usersCleaned, 0);
    cleaned += (await ctx.store.sweepDueUsers(1_000)).usersCleaned;
    expect(cleaned).toBe(users.length);
    for (const [userId, expiresAt] of logins) {
      expect(await score(userId), userId).toBe(expiresAt);
      expect(await ctx.store.list(userId)).toHaveLength(1);
    }
    expect(await ctx.redis.zcard(activityKey(ctx.prefix))).toBe(logins.size);
  });
});
