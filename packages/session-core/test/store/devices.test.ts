import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionNotFoundError, userKey } from "../../src/index.js";
import { forEachTopology, openStore, type StoreContext, sleep } from "../support/store-context.js";

forEachTopology((topology) => {
  let ctx: StoreContext;
  beforeEach(async () => {
    ctx = await openStore({ touchIntervalMs: 0 }, topology);
  });
  afterEach(() => ctx.close());

  async function loginOnThreeDevices(userId: string) {
    const phone = await ctx.store.create(userId, { device: { name: "phone", platform: "android" } });
    await sleep(3);
    const tablet = await ctx.store.create(userId, { device: { name: "tablet", platform: "ios" } });
    await sleep(3);
    const laptop = await ctx.store.create(userId, { device: { name: "laptop", platform: "web" } });
    return { phone, tablet, laptop };
  }

  describe("list", () => {
    it("shows the user's live sessions, most recently seen first, without secrets", async () => {
      const { phone, tablet, laptop } = await loginOnThreeDevices("u1");
      await sleep(3);
      await ctx.store.get("u1", phone.sessionId);
      const sessions = await ctx.store.list("u1");
      expect(sessions.map((s) => s.device.name)).toEqual(["phone", "laptop", "tablet"]);
      const serialized = JSON.stringify(sessions);
      for (const created of [phone, tablet, laptop]) {
        expect(serialized).not.toContain(created.sessionId);
        expect(serialized).not.toContain(created.token);
      }
    });

    it("is empty for a user without sessions, and never shows another user's sessions", async () => {
      await loginOnThreeDevices("u2");
      expect(await ctx.store.list("nobody")).toEqual([]);
      expect((await ctx.store.list("u2")).every((s) => s.userId === "u2")).toBe(true);
    });
  });

  describe("remove", () => {
    it("logs out this session only", async () => {
      const { phone, tablet } = await loginOnThreeDevices("u3");
      expect(await ctx.store.remove("u3", phone.sessionId)).toBe(true);
      await expect(ctx.store.get("u3", phone.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(ctx.store.get("u3", tablet.sessionId)).resolves.toBeTruthy();
      expect(await ctx.store.remove("u3", phone.sessionId)).toBe(false);
    });

    it("deletes the user's hash, user info included, with the last session", async () => {
      const { sessionId } = await ctx.store.create("u4", { userInfo: { name: "x" } });
      await ctx.store.remove("u4", sessionId);
      expect(await ctx.redis.exists(userKey(ctx.prefix, "u4"))).toBe(0);
    });
  });

  describe("revoke", () => {
    it("a revoked session is rejected on its next read", async () => {
      const { phone, laptop } = await loginOnThreeDevices("u5");
      expect(await ctx.store.revoke("u5", phone.session.handle)).toBe(true);
      await expect(ctx.store.authenticate(phone.token)).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(ctx.store.authenticate(laptop.token)).resolves.toBeTruthy();
      expect((await ctx.store.list("u5")).map((s) => s.device.name).sort()).toEqual(["laptop", "tablet"]);
    });

    it("cannot revoke another user's session", async () => {
      const { phone } = await loginOnThreeDevices("u6");
      await loginOnThreeDevices("u7");
      expect(await ctx.store.revoke("u7", phone.session.handle)).toBe(false);
      await expect(ctx.store.get("u6", phone.sessionId)).resolves.toBeTruthy();
    });

    it("answers false for an unknown handle", async () => {
      await loginOnThreeDevices("u8");
      expect(await ctx.store.revoke("u8", "AAAAAAAAAAAAAAAA")).toBe(false);
      expect(await ctx.store.list("u8")).toHaveLength(3);
    });
  });

  describe("removeOthers and removeAll", () => {
    it("removeOthers keeps only the caller's session and counts the others", async () => {
      const { phone, tablet, laptop } = await loginOnThreeDevices("u9");
      expect(await ctx.store.removeOthers("u9", laptop.sessionId)).toBe(2);
      await expect(ctx.store.get("u9", laptop.sessionId)).resolves.toBeTruthy();
      for (const gone of [phone, tablet]) {
        await expect(ctx.store.get("u9", gone.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
      }
      expect(await ctx.store.removeOthers("u9", laptop.sessionId)).toBe(0);
    });

    it("removeOthers needs a live session of the caller", async () => {
      await loginOnThreeDevices("u10");
      await expect(ctx.store.removeOthers("u10", "B".repeat(43))).rejects.toBeInstanceOf(SessionNotFoundError);
      expect(await ctx.store.list("u10")).toHaveLength(3);
    });

    it("removeAll logs out every device and drops the user's hash", async () => {
      const devices = await loginOnThreeDevices("u11");
      await loginOnThreeDevices("u12");
      expect(await ctx.store.removeAll("u11")).toBe(3);
      for (const created of Object.values(devices)) {
        await expect(ctx.store.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
      }
      expect(await ctx.redis.exists(userKey(ctx.prefix, "u11"))).toBe(0);
      expect(await ctx.store.list("u12")).toHaveLength(3);
      expect(await ctx.store.removeAll("u11")).toBe(0);
    });
  });
});
