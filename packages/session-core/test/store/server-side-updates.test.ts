/**
 * getUserInfo, updateUserInfo and updateData: writes made from the server
 * side (an admin tool, a request handler) rather than through a session's
 * own read. Invariants checked on both topologies: every live session sees
 * an update on its next read through any server; nothing is written for a
 * user without a live session (so no key is created, and none is ever left
 * without a TTL); no session is lost under concurrent updates; bad input is
 * refused with InvalidInputError naming the field, before Redis is asked.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  InvalidInputError,
  type JsonValue,
  SessionExpiredError,
  SessionNotFoundError,
  sessionKeyOf,
  userKey,
} from "../../src/index.js";
import { forEachTopology, openStore, type StoreContext } from "../support/store-context.js";

/** Resolves once Redis's own clock is past `ms` (the scripts judge expiry by it). */
async function redisClockPast(ctx: StoreContext, ms: number): Promise<void> {
  const budget = Date.now() + 20_000;
  for (;;) {
    const [seconds, micros] = await ctx.redis.time();
    if (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) > ms) return;
    if (Date.now() > budget) throw new Error(`Redis's clock never passed ${ms}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every key under the test's prefix, with its TTL in ms (-1: none). */
async function ttlsOf(ctx: StoreContext, userIds: string[]): Promise<Map<string, number>> {
  const ttls = new Map<string, number>();
  for (const userId of userIds) {
    const key = userKey(ctx.prefix, userId);
    ttls.set(key, await ctx.redis.pttl(key));
  }
  return ttls;
}

async function invalidField(action: () => Promise<unknown>): Promise<string> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  return (error as InvalidInputError).field;
}

forEachTopology((topology) => {
  let ctx: StoreContext;
  beforeEach(async () => {
    ctx = await openStore({ maxDataBytes: 1024 }, topology);
  });
  afterEach(() => ctx.close());

  describe("getUserInfo", () => {
    it("is null for a user never seen and for one whose info was never set", async () => {
      expect(await ctx.store.getUserInfo("nobody")).toBeNull();
      await ctx.store.create("no-info");
      expect(await ctx.store.getUserInfo("no-info")).toBeNull();
      expect(await ctx.redis.exists(userKey(ctx.prefix, "nobody"))).toBe(0);
    });

    it("gives what login, setUserInfo and updateUserInfo stored, through any server", async () => {
      const { sessionId } = await ctx.store.create("gu", { userInfo: { name: "Ada" } });
      const other = ctx.another();
      expect(await other.getUserInfo("gu")).toEqual({ name: "Ada" });
      await ctx.store.setUserInfo("gu", sessionId, { name: "Ada L." });
      expect(await other.getUserInfo("gu")).toEqual({ name: "Ada L." });
      await ctx.store.updateUserInfo("gu", { name: "Ada Lovelace" });
      expect(await other.getUserInfo("gu")).toEqual({ name: "Ada Lovelace" });
    });

    it("is null once every session of the user is gone, though the hash lingers for keyGraceMs", async () => {
      const store = ctx.another({ idleTimeoutMs: 200, absoluteTimeoutMs: 200, touchIntervalMs: 0 });
      const { session } = await store.create("gone", { userInfo: { name: "Gone" } });
      expect(await store.getUserInfo("gone")).toEqual({ name: "Gone" });
      await redisClockPast(ctx, session.expiresAt);
      expect(await ctx.redis.exists(userKey(ctx.prefix, "gone"))).toBe(1);
      expect(await store.getUserInfo("gone")).toBeNull();
    });

    it("never shows another user's info", async () => {
      await ctx.store.create("one", { userInfo: { secret: 1 } });
      await ctx.store.create("two");
      expect(await ctx.store.getUserInfo("two")).toBeNull();
    });
  });

  describe("updateUserInfo", () => {
    it("is seen by every live session on its next read, through any server", async () => {
      const phone = await ctx.store.create("ui", { device: { name: "phone" }, userInfo: { plan: "free" } });
      const laptop = await ctx.store.create("ui", { device: { name: "laptop" } });
      const admin = ctx.another();
      expect(await admin.updateUserInfo("ui", { plan: "pro" })).toBe(true);
      const reader = ctx.another();
      expect((await reader.get("ui", phone.sessionId)).userInfo).toEqual({ plan: "pro" });
      expect((await reader.authenticate(laptop.token)).userInfo).toEqual({ plan: "pro" });
      expect((await reader.list("ui")).map((s) => s.userInfo)).toEqual([{ plan: "pro" }, { plan: "pro" }]);
    });

    it("stores null and any plain JSON exactly", async () => {
      const { sessionId } = await ctx.store.create("exact", { userInfo: { a: 1 } });
      expect(await ctx.store.updateUserInfo("exact", null)).toBe(true);
      expect((await ctx.store.get("exact", sessionId)).userInfo).toBeNull();
      const info = { name: "Zoë 😀", tags: ["a", "b"], nested: { n: 1.5, t: true, none: null } };
      expect(await ctx.store.updateUserInfo("exact", info)).toBe(true);
      expect(await ctx.store.getUserInfo("exact")).toEqual(info);
    });

    it("returns false and writes nothing for a user who has no live session", async () => {
      expect(await ctx.store.updateUserInfo("never", { x: 1 })).toBe(false);
      expect(await ctx.redis.exists(userKey(ctx.prefix, "never"))).toBe(0);

      const { sessionId } = await ctx.store.create("left", { userInfo: { x: 1 } });
      await ctx.store.remove("left", sessionId);
      expect(await ctx.store.updateUserInfo("left", { x: 2 })).toBe(false);
      expect(await ctx.redis.exists(userKey(ctx.prefix, "left"))).toBe(0);
    });

    it("leaves an expired user's lingering hash as it was, TTL included", async () => {
      const store = ctx.another({ idleTimeoutMs: 200, absoluteTimeoutMs: 200, touchIntervalMs: 0 });
      const { session } = await store.create("late", { userInfo: { v: "old" } });
      await redisClockPast(ctx, session.expiresAt);
      const key = userKey(ctx.prefix, "late");
      const before = await ctx.redis.pexpiretime(key);
      expect(await store.updateUserInfo("late", { v: "new" })).toBe(false);
      expect(await ctx.redis.hget(key, "#info")).toBe('{"v":"old"}');
      expect(await ctx.redis.pexpiretime(key)).toBe(before);
      expect(before).toBeGreaterThan(0);
    });

    it("keeps the hash's TTL covering the latest-expiring session", async () => {
      await ctx.store.create("ttl");
      const { session } = await ctx.another({ idleTimeoutMs: 60 * 60_000 }).create("ttl");
      const key = userKey(ctx.prefix, "ttl");
      expect(await ctx.store.updateUserInfo("ttl", { v: 1 })).toBe(true);
      const keyGrace = ctx.store.settings.keyGraceMs;
      expect(await ctx.redis.pexpiretime(key)).toBeGreaterThanOrEqual(session.expiresAt + keyGrace);
    });

    it("never touches another user", async () => {
      await ctx.store.create("mine", { userInfo: { who: "mine" } });
      await ctx.store.create("theirs", { userInfo: { who: "theirs" } });
      await ctx.store.updateUserInfo("mine", { who: "changed" });
      expect(await ctx.store.getUserInfo("theirs")).toEqual({ who: "theirs" });
    });

    it("refuses bad input, naming the field, and writes nothing", async () => {
      await ctx.store.create("bad", { userInfo: { ok: true } });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const bad: [unknown, string][] = [
        [() => 1, "userInfo"],
        [{ at: new Date() }, "userInfo.at"],
        [{ n: Number.NaN }, "userInfo.n"],
        [{ big: 1n }, "userInfo.big"],
        [cyclic, "userInfo.self"],
        [{ text: "x".repeat(2_000) }, "userInfo"],
        [undefined, "userInfo"],
      ];
      for (const [info, field] of bad) {
        expect(await invalidField(() => ctx.store.updateUserInfo("bad", info as JsonValue))).toBe(field);
      }
      for (const userId of ["", "a{b", "x".repeat(257), 42]) {
        expect(await invalidField(() => ctx.store.updateUserInfo(userId as string, {}))).toBe("userId");
        expect(await invalidField(() => ctx.store.getUserInfo(userId as string))).toBe("userId");
      }
      expect(await ctx.store.getUserInfo("bad")).toEqual({ ok: true });
    });
  });

  describe("updateData", () => {
    it("replaces one session's data; the user's other sessions keep theirs", async () => {
      const phone = await ctx.store.create("ud", { data: { cart: [] }, device: { name: "phone" } });
      const laptop = await ctx.store.create("ud", { data: { cart: ["kept"] } });
      const updated = await ctx.another().updateData("ud", phone.sessionId, { cart: ["book"] });
      expect(updated.data).toEqual({ cart: ["book"] });
      const reader = ctx.another();
      expect((await reader.get("ud", phone.sessionId)).data).toEqual({ cart: ["book"] });
      expect((await reader.authenticate(laptop.token)).data).toEqual({ cart: ["kept"] });
    });

    it("keeps the handle, device, user info and times: writing data is not a use of the session", async () => {
      const store = ctx.another({ touchIntervalMs: 60 * 60_000 });
      const { sessionId, session } = await store.create("keep", {
        data: 1,
        device: { name: "Pixel", platform: "android", userAgent: "app/1", ip: "203.0.113.9" },
        userInfo: { name: "K" },
      });
      await redisClockPast(ctx, session.createdAt + 5); // a renewal now would show in the times
      const updated = await store.updateData("keep", sessionId, { n: 2 });
      expect(updated).toEqual({ ...session, data: { n: 2 } });
      expect(await store.get("keep", sessionId)).toEqual(updated);
    });

    it("keeps a rotated session's handle and any elements a newer release appended to its record", async () => {
      const created = await ctx.store.create("rot", { device: { name: "tablet" } });
      const rotated = await ctx.store.rotate("rot", created.sessionId);
      const key = userKey(ctx.prefix, "rot");
      const field = sessionKeyOf(rotated.sessionId);
      const stored = (await ctx.redis.hget(key, field)) as string;
      // A record as a later release might write it: one more element after the handle.
      await ctx.redis.hset(key, field, `${stored.slice(0, -1)},{"future":[1,2]}]`);
      await ctx.store.updateData("rot", rotated.sessionId, { v: "new" });
      const after = (await ctx.redis.hget(key, field)) as string;
      expect(after.endsWith(`"${created.session.handle}",{"future":[1,2]}]`)).toBe(true);
      expect((await ctx.store.list("rot")).map((s) => [s.handle, s.data, s.device])).toEqual([
        [created.session.handle, { v: "new" }, { name: "tablet" }],
      ]);
    });

    it("stores null and any plain JSON exactly", async () => {
      const { sessionId } = await ctx.store.create("json");
      for (const data of [null, 0, "text", [1, [2, { three: 3 }]], { "": "", "é😀": -1.25e-7 }] as JsonValue[]) {
        expect((await ctx.store.updateData("json", sessionId, data)).data).toEqual(data);
        expect((await ctx.another().get("json", sessionId)).data).toEqual(data);
      }
    });

    it("refuses an unknown, removed, revoked or another user's session with SessionNotFoundError", async () => {
      const a = await ctx.store.create("nf");
      const b = await ctx.store.create("nf");
      const unknown = "A".repeat(43);
      await expect(ctx.store.updateData("nf", unknown, {})).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(ctx.store.updateData("someone-else", a.sessionId, {})).rejects.toBeInstanceOf(SessionNotFoundError);
      await ctx.store.remove("nf", a.sessionId);
      await expect(ctx.store.updateData("nf", a.sessionId, {})).rejects.toBeInstanceOf(SessionNotFoundError);
      await ctx.store.revoke("nf", b.session.handle);
      await expect(ctx.store.updateData("nf", b.sessionId, {})).rejects.toBeInstanceOf(SessionNotFoundError);
      expect(await ctx.redis.exists(userKey(ctx.prefix, "someone-else"))).toBe(0);
    });

    it("refuses an expired session with SessionExpiredError and writes nothing", async () => {
      const store = ctx.another({ idleTimeoutMs: 200, absoluteTimeoutMs: 200, touchIntervalMs: 0 });
      const { sessionId, session } = await store.create("exp", { data: { v: "old" } });
      const key = userKey(ctx.prefix, "exp");
      const field = sessionKeyOf(sessionId);
      const before = await ctx.redis.hget(key, field);
      await redisClockPast(ctx, session.expiresAt);
      const error = await store.updateData("exp", sessionId, { v: "new" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionExpiredError);
      expect((error as SessionExpiredError).expiredAt).toBe(session.expiresAt);
      expect(await ctx.redis.hget(key, field)).toBe(before);
    });

    it("treats a corrupt record as no session: deleted, and no user info is read or written through it", async () => {
      const { sessionId } = await ctx.store.create("corrupt", { userInfo: { v: "kept" } });
      const key = userKey(ctx.prefix, "corrupt");
      // A header that says live for half an hour, over a body that is no JSON.
      await ctx.redis.hset(key, sessionKeyOf(sessionId), `2|${Date.now().toString(36)}|0|zzzz|zzzz|not json`);
      expect(await ctx.store.getUserInfo("corrupt")).toBeNull();
      expect(await ctx.store.updateUserInfo("corrupt", { v: "new" })).toBe(false);
      expect(await ctx.redis.hget(key, "#info")).toBe('{"v":"kept"}');
      await expect(ctx.store.updateData("corrupt", sessionId, {})).rejects.toBeInstanceOf(SessionNotFoundError);
      // The record was the user's only session: it went, and the hash with it.
      expect(await ctx.redis.exists(key)).toBe(0);
    });

    it("refuses bad input, naming the field, and writes nothing", async () => {
      const { sessionId } = await ctx.store.create("bad-data", { data: { ok: true } });
      const deep: JsonValue[] = [];
      let at = deep;
      for (let i = 0; i < 70; i++) {
        const next: JsonValue[] = [];
        at.push(next);
        at = next;
      }
      const bad: [unknown, string][] = [
        [new Map(), "data"],
        [{ when: new Date() }, "data.when"],
        [{ list: [1, () => 2] }, "data.list[1]"],
        [{ n: Number.POSITIVE_INFINITY }, "data.n"],
        [{ text: "é".repeat(600) }, "data"], // 1,200 bytes of UTF-8, over maxDataBytes 1024
        [deep, `data${"[0]".repeat(64)}`],
        [undefined, "data"],
      ];
      for (const [data, field] of bad) {
        expect(await invalidField(() => ctx.store.updateData("bad-data", sessionId, data as JsonValue))).toBe(field);
      }
      for (const id of ["", "short", `${"A".repeat(42)}!`, 7]) {
        expect(await invalidField(() => ctx.store.updateData("bad-data", id as string, {}))).toBe("sessionId");
      }
      expect(await invalidField(() => ctx.store.updateData("a}b", sessionId, {}))).toBe("userId");
      expect((await ctx.store.get("bad-data", sessionId)).data).toEqual({ ok: true });
    });
  });

  describe("under concurrency", () => {
    it("many concurrent updates from many servers lose no session and leave no key without a TTL", async () => {
      // Room for every server's login at once beside the three kept sessions: no eviction here.
      const servers = Array.from({ length: 8 }, () => ctx.another({ maxSessionsPerUser: 50 }));
      const users = Array.from({ length: 6 }, (_, i) => `busy-${i}`);
      const sessions = new Map<string, { sessionId: string; token: string }[]>();
      for (const userId of users) {
        const own = [];
        for (let i = 0; i < 3; i++) own.push(await ctx.store.create(userId, { data: { n: -1 } }));
        sessions.set(userId, own);
      }
      const written = new Map<string, Set<string>>();
      const failures: unknown[] = [];
      await Promise.all(
        servers.map(async (server, s) => {
          for (let round = 0; round < 40; round++) {
            const userId = users[(s + round) % users.length] as string;
            const own = sessions.get(userId) ?? [];
            const target = own[round % own.length];
            if (!target) continue;
            try {
              if (round % 3 === 0) {
                const info = { by: s, round };
                await server.updateUserInfo(userId, info);
                written.set(`info:${userId}`, (written.get(`info:${userId}`) ?? new Set()).add(JSON.stringify(info)));
              } else if (round % 3 === 1) {
                const data = { n: s * 100 + round };
                await server.updateData(userId, target.sessionId, data);
                const k = `data:${target.sessionId}`;
                written.set(k, (written.get(k) ?? new Set()).add(JSON.stringify(data)));
              } else {
                // A login and logout racing the updates, and a read.
                const churn = await server.create(userId, { device: { name: "churn" } });
                await server.authenticate(target.token);
                await server.remove(userId, churn.sessionId);
              }
            } catch (error) {
              failures.push(error);
            }
          }
        }),
      );
      expect(failures).toEqual([]);
      // Every session made before is still there, holding one of the values written to it (or its first).
      for (const [userId, own] of sessions) {
        const listed = await ctx.store.list(userId);
        expect(listed).toHaveLength(own.length);
        for (const { sessionId } of own) {
          const session = await ctx.store.get(userId, sessionId);
          const candidates = written.get(`data:${sessionId}`) ?? new Set();
          candidates.add(JSON.stringify({ n: -1 }));
          expect(candidates.has(JSON.stringify(session.data))).toBe(true);
        }
        const info = await ctx.store.getUserInfo(userId);
        expect(written.get(`info:${userId}`)?.has(JSON.stringify(info))).toBe(true);
      }
      for (const [key, ttl] of await ttlsOf(ctx, users)) expect([key, ttl > 0]).toEqual([key, true]);
    });

    it("updates racing the user's logout everywhere never resurrect the user nor leave a key without a TTL", async () => {
      const servers = Array.from({ length: 6 }, () => ctx.another());
      for (let run = 0; run < 5; run++) {
        const userId = `race-${run}`;
        const { sessionId } = await ctx.store.create(userId, { userInfo: { v: 0 } });
        const results = await Promise.allSettled([
          ...servers.map((server, i) => server.updateUserInfo(userId, { v: i + 1 })),
          ...servers.map((server, i) => server.updateData(userId, sessionId, { i })),
          ctx.store.removeAll(userId),
        ]);
        for (const result of results) {
          if (result.status === "rejected") expect(result.reason).toBeInstanceOf(SessionNotFoundError);
        }
        // Whatever the order, removeAll ran: no session and no key is left behind.
        expect(await ctx.store.list(userId)).toEqual([]);
        expect(await ctx.redis.exists(userKey(ctx.prefix, userId))).toBe(0);
        expect(await ctx.store.updateUserInfo(userId, { v: "after" })).toBe(false);
        expect(await ctx.redis.exists(userKey(ctx.prefix, userId))).toBe(0);
      }
    });
  });
});
