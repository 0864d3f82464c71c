/**
 * The worker's operations on the store (cleanup.ts): the deletion job's
 * deleteExpiredSession, and the sweep: activity shards per slot, findDueSlots,
 * sweepSlot (claim, clean, re-add in one script per call) and the drain of
 * the single activity set of earlier releases.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  activityShardKey,
  encodeRecord,
  legacyActivityKey,
  SessionExpiredError,
  SessionNotFoundError,
  type SessionStore,
  sessionKeyOf,
  slotOf,
  userKey,
} from "../../src/index.js";
import { ALL_SLOTS, usersInOneSlot } from "../support/slots.js";
import { forEachTopology, openStore, type StoreContext, sleep } from "../support/store-context.js";

forEachTopology((topology) => {
  let ctx: StoreContext;
  beforeEach(async () => {
    ctx = await openStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 60_000, touchIntervalMs: 0 }, topology);
  });
  afterEach(() => ctx.close());

  /** Keys matching `pattern` on the single node or on every master of the cluster. */
  async function keysMatching(pattern: string): Promise<string[]> {
    const nodes = "nodes" in ctx.redis ? ctx.redis.nodes("master") : [ctx.redis];
    return (await Promise.all(nodes.map((node) => node.keys(pattern)))).flat();
  }

  const shardOf = (userId: string) => activityShardKey(ctx.prefix, slotOf(userId));
  const score = (userId: string) =>
    ctx.redis.zscore(shardOf(userId), userId).then((s) => (s === null ? null : Number(s)));

  /** What the worker's sweep does over every slot: find the due ones, sweep each until nothing is due. */
  async function sweepAll(store: SessionStore, limit = 1_000) {
    const total = { usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 };
    for (const slot of await store.findDueSlots(ALL_SLOTS)) {
      for (;;) {
        const step = await store.sweepSlot(slot, limit);
        total.usersCleaned += step.usersCleaned;
        total.sessionsDeleted += step.sessionsDeleted;
        total.hashesDeleted += step.hashesDeleted;
        if (step.usersCleaned < limit) break;
      }
    }
    return total;
  }

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

  describe("activity shards", () => {
    it("scores a user in its slot's shard at the earliest expiry among its sessions", async () => {
      const first = await ctx.store.create("scored");
      expect(await score("scored")).toBe(first.session.expiresAt);
      await sleep(20);
      await ctx.store.create("scored");
      expect(await score("scored")).toBe(first.session.expiresAt);
      // Nothing else holds the user: no single activity set, no other shard.
      expect(await ctx.redis.exists(legacyActivityKey(ctx.prefix))).toBe(0);
      const shards = await keysMatching(`${ctx.prefix}usersession-activity*`);
      expect(shards).toEqual([shardOf("scored")]);
    });

    it("findDueSlots names the slots with a due user, in the order asked, and no other", async () => {
      const long = ctx.another({ idleTimeoutMs: 60_000 });
      await ctx.store.create("due-a");
      await ctx.store.create("due-b");
      await long.create("not-due");
      const asked = [slotOf("not-due"), slotOf("due-b"), 7, slotOf("due-a")];
      expect(await ctx.store.findDueSlots(asked)).toEqual([]);
      await sleep(350);
      const expected = [slotOf("due-b"), slotOf("due-a")].filter((slot) => slot !== slotOf("not-due"));
      expect(await ctx.store.findDueSlots(asked)).toEqual(expected);
      expect(await ctx.store.findDueSlots([])).toEqual([]);
    });
  });

  describe("sweepSlot (the sweeper's step)", () => {
    it("drops expired sessions, keeps live ones and re-scores the user", async () => {
      const long = ctx.another({ idleTimeoutMs: 60_000 });
      await ctx.store.create("partly");
      await ctx.store.create("partly");
      const kept = await long.create("partly");
      await sleep(350);
      expect(await ctx.store.sweepSlot(slotOf("partly"), 10)).toEqual({
        usersCleaned: 1,
        sessionsDeleted: 2,
        hashesDeleted: 0,
      });
      expect(await score("partly")).toBe(kept.session.expiresAt);
      await expect(long.get("partly", kept.sessionId)).resolves.toBeTruthy();
      expect(await ctx.store.sweepSlot(slotOf("partly"), 10)).toEqual({
        usersCleaned: 0,
        sessionsDeleted: 0,
        hashesDeleted: 0,
      });
    });

    it("deletes a dangling hash whole, user info included, and forgets the user", async () => {
      await ctx.store.create("dangling", { userInfo: { name: "gone" } });
      await ctx.store.create("dangling");
      await sleep(350);
      expect(await ctx.store.sweepSlot(slotOf("dangling"), 10)).toEqual({
        usersCleaned: 1,
        sessionsDeleted: 2,
        hashesDeleted: 1,
      });
      expect(await ctx.redis.exists(userKey(ctx.prefix, "dangling"))).toBe(0);
      expect(await score("dangling")).toBeNull();
    });

    it("forgets a user whose key expired away, deleting nothing", async () => {
      await ctx.store.create("vanished");
      await ctx.redis.del(userKey(ctx.prefix, "vanished"));
      await sleep(350);
      expect(await ctx.store.sweepSlot(slotOf("vanished"), 10)).toEqual({
        usersCleaned: 1,
        sessionsDeleted: 0,
        hashesDeleted: 0,
      });
      expect(await score("vanished")).toBeNull();
    });

    it("trusts the key's TTL: a hash whose TTL minus the grace is past is deleted without reading its records", async () => {
      // A record that claims to live an hour, in a hash whose TTL says every session ended: only a sweep that
      // reads the records would keep it. The store's invariant (the TTL covers the latest expiry plus the grace)
      // makes the two agree in real data; here they disagree on purpose, to see which one the sweep used.
      const { sessionId } = await ctx.store.create("fast-path", { userInfo: { n: 1 } });
      const key = userKey(ctx.prefix, "fast-path");
      const now = Date.now();
      const record = encodeRecord(
        { createdAt: now, lastSeenAt: now, expiresAt: now + 3_600_000, absoluteExpiresAt: now + 3_600_000 },
        {},
        {},
      );
      await ctx.redis.hset(key, "L".repeat(43), record);
      const grace = ctx.store.settings.keyGraceMs;
      await ctx.redis.pexpireat(key, now + grace - 5_000);
      await ctx.redis.zadd(shardOf("fast-path"), 1, "fast-path");
      expect(await ctx.store.sweepSlot(slotOf("fast-path"), 10)).toEqual({
        usersCleaned: 1,
        sessionsDeleted: 2,
        hashesDeleted: 1,
      });
      expect(await ctx.redis.exists(key)).toBe(0);
      await expect(ctx.store.get("fast-path", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);

      // With the TTL a moment later, the same hash is read record by record and the live-looking one stays.
      await ctx.redis.hset(key, "L".repeat(43), record);
      await ctx.redis.pexpireat(key, Date.now() + grace + 60_000);
      await ctx.redis.zadd(shardOf("fast-path"), 1, "fast-path");
      expect(await ctx.store.sweepSlot(slotOf("fast-path"), 10)).toEqual({
        usersCleaned: 1,
        sessionsDeleted: 0,
        hashesDeleted: 0,
      });
      expect(await score("fast-path")).toBe(now + 3_600_000);
    });

    it("takes at most `limit` users, earliest first, over several calls of its own", async () => {
      const long = ctx.another({ idleTimeoutMs: 60_000 });
      const { slot, userIds } = usersInOneSlot("many", 128 * 2 + 30);
      const kept = new Map<string, number>();
      for (const [i, userId] of userIds.entries()) {
        await ctx.store.create(userId, { userInfo: { i } });
        if (i % 3 === 0) await ctx.store.create(userId);
        if (i % 2 === 0) kept.set(userId, (await long.create(userId)).session.expiresAt);
      }
      await ctx.redis.hset(userKey(ctx.prefix, userIds[1] as string), "C".repeat(43), "corrupt");
      await sleep(350);
      // The dead sessions, counted in Redis: a user's second short session may already have dropped its first
      // (a create drops the expired ones) when the machine is slow.
      let expiredSessions = 0;
      for (const userId of userIds) {
        const fields = await ctx.redis.hkeys(userKey(ctx.prefix, userId));
        expiredSessions += fields.filter((field) => field !== "#info").length - (kept.has(userId) ? 1 : 0);
      }
      expect(expiredSessions).toBeGreaterThanOrEqual(userIds.length + 1);

      const first = await ctx.store.sweepSlot(slot, 10);
      expect(first.usersCleaned).toBe(10);
      // The ten claimed first are the ten due first (created first).
      for (const userId of userIds.slice(0, 10)) expect(await score(userId), userId).toBe(kept.get(userId) ?? null);
      const rest = await ctx.store.sweepSlot(slot, 100_000);
      expect(first.usersCleaned + rest.usersCleaned).toBe(userIds.length);
      expect(first.sessionsDeleted + rest.sessionsDeleted).toBe(expiredSessions);
      expect(first.hashesDeleted + rest.hashesDeleted).toBe(userIds.length - kept.size);
      expect(await ctx.store.sweepSlot(slot, 100)).toEqual({ usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 });
      for (const userId of userIds) {
        expect(await score(userId), userId).toBe(kept.get(userId) ?? null);
        // One live session left for a kept user (its user info too, unless a slow setup let its short sessions
        // expire before the long one was created, which starts the hash afresh); nothing for the others.
        const fields = await ctx.redis.hkeys(userKey(ctx.prefix, userId));
        expect(fields.filter((field) => field !== "#info").length, userId).toBe(kept.has(userId) ? 1 : 0);
      }
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
      expect((await sweepAll(ctx.store, 7)).usersCleaned).toBe(60);
      for (const { userId, sessionId } of liveSessions) await expect(long.get(userId, sessionId)).resolves.toBeTruthy();
      for (let i = 0; i < 90; i++) {
        const userId = `mix${i}`;
        expect(await ctx.redis.hlen(userKey(ctx.prefix, userId))).toBe(i % 3 === 2 ? 0 : 1);
        expect(await score(userId)).toBe(i % 3 === 2 ? null : (await long.list(userId))[0]?.expiresAt);
      }
      expect(await ctx.store.findDueSlots(ALL_SLOTS)).toEqual([]);
    });

    it("a login right after a sweep, or racing concurrent sweepers, is never lost from its shard", async () => {
      await ctx.store.create("racer");
      await sleep(350);
      expect((await ctx.store.sweepSlot(slotOf("racer"), 10)).hashesDeleted).toBe(1);
      const fresh = await ctx.store.create("racer");
      expect(await score("racer")).toBe(fresh.session.expiresAt);

      const { slot, userIds } = usersInOneSlot("race", 300);
      for (const userId of userIds) await ctx.store.create(userId);
      await sleep(350);
      const long = ctx.another({ idleTimeoutMs: 60_000 });
      const logins = new Map<string, number>();
      const [steps] = await Promise.all([
        Promise.all(Array.from({ length: 8 }, () => ctx.another().sweepSlot(slot, 20))),
        Promise.all(
          userIds
            .filter((_, i) => i % 10 === 0)
            .map(async (userId) => logins.set(userId, (await long.create(userId)).session.expiresAt)),
        ),
      ]);
      // Eight concurrent sweepers never claim one user twice: together with the rest, each user once.
      let cleaned = steps.reduce((sum, step) => sum + step.usersCleaned, 0);
      cleaned += (await ctx.store.sweepSlot(slot, 1_000)).usersCleaned;
      expect(cleaned).toBe(userIds.length);
      for (const [userId, expiresAt] of logins) {
        expect(await score(userId), userId).toBe(expiresAt);
        expect(await ctx.store.list(userId)).toHaveLength(1);
      }
      expect(await ctx.redis.zcard(activityShardKey(ctx.prefix, slot))).toBe(logins.size);
    });
  });

  describe("drainLegacyActivity (data written before the shards)", () => {
    it("moves every member of the old single set into its shard, keeps lower shard scores, then the old set is gone", async () => {
      const legacy = legacyActivityKey(ctx.prefix);
      const users = Array.from({ length: 250 }, (_, i) => `old${i}`);
      for (const [i, userId] of users.entries()) await ctx.redis.zadd(legacy, 1_000 + i, userId);
      // A user the new release already scored earlier in its shard keeps that earlier score.
      await ctx.redis.zadd(shardOf("old7"), 5, "old7");
      let moved = 0;
      for (
        let step = await ctx.store.drainLegacyActivity(100);
        step > 0;
        step = await ctx.store.drainLegacyActivity(100)
      ) {
        moved += step;
      }
      expect(moved).toBe(250);
      expect(await ctx.redis.exists(legacy)).toBe(0);
      for (const [i, userId] of users.entries()) expect(await score(userId), userId).toBe(i === 7 ? 5 : 1_000 + i);
      expect(await ctx.store.drainLegacyActivity(100)).toBe(0);
    });

    it("drops a member that is no user id, with a warning, and moves the rest", async () => {
      const legacy = legacyActivityKey(ctx.prefix);
      await ctx.redis.zadd(legacy, 1, "bad{id}", 2, "good");
      expect(await ctx.store.drainLegacyActivity(10)).toBe(2);
      expect(await ctx.redis.exists(legacy)).toBe(0);
      expect(await score("good")).toBe(2);
      expect(ctx.logs.some((line) => line.level === "warn" && /no user id/.test(line.msg))).toBe(true);
    });

    it("leaves a member whose old score was lowered meanwhile for the next pass", async () => {
      // The drain's last step removes a member only if its old score is still the one it read.
      const legacy = legacyActivityKey(ctx.prefix);
      await ctx.redis.zadd(legacy, 100, "moving");
      const read = await ctx.redis.zrange(legacy, "0", "-1", "WITHSCORES");
      await ctx.redis.zadd(legacy, 50, "moving"); // an older release lowers it after the read
      await ctx.redis.zadd(shardOf("moving"), "LT", Number(read[1]), "moving");
      const { lua } = (await import("../../src/scripts/index.js")).loadScripts().drainLegacyActivity;
      expect(await ctx.redis.eval(lua, 1, legacy, ...read)).toEqual([0, 0]);
      expect(await ctx.redis.zscore(legacy, "moving")).toBe("50");
      expect(await ctx.store.drainLegacyActivity(10)).toBe(1);
      expect(await score("moving")).toBe(50);
      expect(await ctx.redis.exists(legacy)).toBe(0);
    });

    it("drained users are then swept like any other", async () => {
      await ctx.store.create("legacy-user");
      const shard = shardOf("legacy-user");
      const expiresAt = Number(await ctx.redis.zscore(shard, "legacy-user"));
      // As an older release left it: scored in the single set only.
      await ctx.redis.zrem(shard, "legacy-user");
      await ctx.redis.zadd(legacyActivityKey(ctx.prefix), expiresAt, "legacy-user");
      await sleep(350);
      expect(await ctx.store.findDueSlots([slotOf("legacy-user")])).toEqual([]);
      expect(await ctx.store.drainLegacyActivity(10)).toBe(1);
      expect(await ctx.store.sweepSlot(slotOf("legacy-user"), 10)).toMatchObject({ usersCleaned: 1, hashesDeleted: 1 });
    });
  });
});
