import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activityShardKey, legacyActivityKey, SessionNotFoundError, slotOf, userKey } from "../../src/index.js";
import { forEachTopology, openStore, type StoreContext, sleep } from "../support/store-context.js";

forEachTopology((topology) => {
  let ctx: StoreContext;
  beforeEach(async () => {
    ctx = await openStore({}, topology);
  });
  afterEach(() => ctx.close());

  describe("create", () => {
    it("returns a 256-bit URL-safe secret, a bearer token and the session", async () => {
      const before = Date.now();
      const { sessionId, token, session } = await ctx.store.create("alice", {
        data: { cart: [1, 2] },
        device: { name: "Pixel 9", platform: "android", userAgent: "app/1.0", ip: "10.0.0.7" },
      });
      expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(sessionId, "base64url")).toHaveLength(32);
      expect(token.endsWith(`.${sessionId}`)).toBe(true);
      expect(session).toMatchObject({
        userId: "alice",
        data: { cart: [1, 2] },
        userInfo: null,
        device: { name: "Pixel 9", platform: "android", userAgent: "app/1.0", ip: "10.0.0.7" },
      });
      expect(session.handle).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(session.createdAt).toBe(session.lastSeenAt);
      expect(session.createdAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(session.expiresAt).toBe(session.createdAt + ctx.store.settings.idleTimeoutMs);
    });

    it("gives every session its own secret and handle", async () => {
      const created = await Promise.all(Array.from({ length: 20 }, () => ctx.store.create("bob")));
      expect(new Set(created.map((c) => c.sessionId)).size).toBe(20);
      expect(new Set(created.map((c) => c.session.handle)).size).toBe(20);
    });

    it("stores all of a user's sessions in one hash, usersession:{<userId>}", async () => {
      await ctx.store.create("carol");
      await ctx.store.create("carol");
      const key = userKey(ctx.prefix, "carol");
      expect(key).toBe(`${ctx.prefix}usersession:{carol}`);
      expect(await ctx.redis.type(key)).toBe("hash");
      expect(await ctx.redis.hlen(key)).toBe(2);
    });

    it("sets the shared user info when given at login", async () => {
      const { sessionId } = await ctx.store.create("dave", { userInfo: { plan: "pro" } });
      expect((await ctx.store.get("dave", sessionId)).userInfo).toEqual({ plan: "pro" });
    });

    it("scores the user in its slot's activity shard at its earliest expiry", async () => {
      const shard = activityShardKey(ctx.prefix, slotOf("olivia"));
      const short = await ctx.another({ idleTimeoutMs: 120_000 }).create("olivia");
      expect(Number(await ctx.redis.zscore(shard, "olivia"))).toBe(short.session.expiresAt);
      const long = await ctx.another({ idleTimeoutMs: 600_000 }).create("olivia");
      expect(long.session.expiresAt).toBeGreaterThan(short.session.expiresAt);
      expect(Number(await ctx.redis.zscore(shard, "olivia"))).toBe(short.session.expiresAt);
      expect(await ctx.redis.exists(legacyActivityKey(ctx.prefix))).toBe(0);
    });
  });

  describe("get and authenticate", () => {
    it("return the live session with its data, device and user info", async () => {
      const { sessionId, token, session } = await ctx.store.create("erin", {
        data: { theme: "dark" },
        device: { name: "iPhone" },
        userInfo: { name: "Erin" },
      });
      const viaGet = await ctx.store.get("erin", sessionId);
      const viaToken = await ctx.store.authenticate(token);
      for (const read of [viaGet, viaToken]) {
        expect(read).toMatchObject({
          handle: session.handle,
          userId: "erin",
          data: { theme: "dark" },
          device: { name: "iPhone" },
          userInfo: { name: "Erin" },
          createdAt: session.createdAt,
        });
      }
    });

    it("reject an unknown session with SessionNotFoundError", async () => {
      await ctx.store.create("frank");
      await expect(ctx.store.get("frank", "A".repeat(43))).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(ctx.store.get("nobody", "A".repeat(43))).rejects.toMatchObject({ code: "ERR_SESSION_NOT_FOUND" });
    });

    it("do not accept one user's secret for another user", async () => {
      const { sessionId } = await ctx.store.create("grace");
      await expect(ctx.store.get("heidi", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    });

    it("renew the idle expiry, at most once per touch interval", async () => {
      const throttled = ctx.another({ touchIntervalMs: 60_000 });
      const { sessionId, session } = await throttled.create("ivan");
      await sleep(20);
      const unchanged = await throttled.get("ivan", sessionId);
      expect(unchanged.lastSeenAt).toBe(session.lastSeenAt);
      expect(unchanged.expiresAt).toBe(session.expiresAt);

      const eager = ctx.another({ touchIntervalMs: 0 });
      await sleep(5);
      const renewed = await eager.get("ivan", sessionId);
      expect(renewed.lastSeenAt).toBeGreaterThan(session.lastSeenAt);
      expect(renewed.expiresAt).toBe(renewed.lastSeenAt + eager.settings.idleTimeoutMs);
    });
  });

  describe("touch", () => {
    it("slides the idle expiry forward and returns the renewed session", async () => {
      const store = ctx.another({ touchIntervalMs: 0, idleTimeoutMs: 60_000 });
      const { sessionId, session } = await store.create("judy");
      await sleep(10);
      const touched = await store.touch("judy", sessionId);
      expect(touched.lastSeenAt).toBeGreaterThan(session.lastSeenAt);
      expect(touched.expiresAt).toBe(touched.lastSeenAt + 60_000);
      expect((await store.get("judy", sessionId)).lastSeenAt).toBeGreaterThanOrEqual(touched.lastSeenAt);
    });
  });
});
