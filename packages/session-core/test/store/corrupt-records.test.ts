import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeRecord, SessionNotFoundError, sessionKeyOf, userKey } from "../../src/index.js";
import { openStore, type StoreContext } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore();
});
afterEach(() => ctx.close());

const later = (Date.now() + 60_000).toString(36);
const corruptValues = [
  ["garbage", "garbage"],
  ["a broken version 2 header", `2|1|1|${later}|@@|[1]`],
  ["upper-case version 2 times", `2|1|1|${later.toUpperCase()}|${later}|[1]`],
  ["a version 2 body that is not an array", `2|1|1|${later}|${later}|{"d":1}`],
  ["an empty version 2 body", `2|1|1|${later}|${later}|[]`],
  ["a version 2 device field that is not a string", `2|1|1|${later}|${later}|[1,5]`],
  ["a version 2 body too long", `2|1|1|${later}|${later}|[1,"a","b","c","d","e"]`],
  ["a broken header", "1|abc|1|2|3|{}"],
  ["a future format", `9|1|1|${Date.now() + 60_000}|${Date.now() + 60_000}|{}`],
  ["a body that is not JSON", `1|1|1|${Date.now() + 60_000}|${Date.now() + 60_000}|{not json`],
  ["a body without data", `1|1|1|${Date.now() + 60_000}|${Date.now() + 60_000}|{"x":1}`],
  ["a device that is not an object", `1|1|1|${Date.now() + 60_000}|${Date.now() + 60_000}|{"d":1,"v":"phone"}`],
] as const;

describe("a corrupt record planted in Redis", () => {
  it.each(corruptValues)("with %s reads as no session and is deleted", async (_, value) => {
    const good = await ctx.store.create("victim");
    const planted = await ctx.store.create("victim");
    const key = userKey(ctx.prefix, "victim");
    await ctx.redis.hset(key, sessionKeyOf(planted.sessionId), value);

    await expect(ctx.store.get("victim", planted.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await ctx.redis.hexists(key, sessionKeyOf(planted.sessionId))).toBe(0);
    expect(ctx.logs.some((line) => line.level === "warn" && line.msg.includes("corrupt"))).toBe(true);
    await expect(ctx.store.get("victim", good.sessionId)).resolves.toBeTruthy();
  });

  it.each(corruptValues)("with %s is left out of list and cleaned", async (_, value) => {
    const good = await ctx.store.create("lister");
    const planted = await ctx.store.create("lister");
    const key = userKey(ctx.prefix, "lister");
    await ctx.redis.hset(key, sessionKeyOf(planted.sessionId), value);
    expect((await ctx.store.list("lister")).map((s) => s.handle)).toEqual([good.session.handle]);
    expect(await ctx.redis.hexists(key, sessionKeyOf(planted.sessionId))).toBe(0);
  });

  it("is ignored by the limit, removeOthers, removeAll and the sweeper", async () => {
    const key = userKey(ctx.prefix, "mixed");
    const mine = await ctx.store.create("mixed");
    await ctx.redis.hset(key, "C".repeat(43), "garbage", "D".repeat(43), "1|x");
    expect(await ctx.store.removeOthers("mixed", mine.sessionId)).toBe(0);
    await ctx.redis.hset(key, "C".repeat(43), "garbage");
    expect(await ctx.store.cleanUser("mixed")).toEqual({
      deletedSessions: 1,
      deletedHash: false,
      nextDueAt: expect.any(Number),
    });
    await ctx.redis.hset(key, "C".repeat(43), "garbage");
    expect(await ctx.store.removeAll("mixed")).toBe(1);
  });

  it("a corrupt user info reads as null", async () => {
    const { sessionId } = await ctx.store.create("info");
    await ctx.redis.hset(userKey(ctx.prefix, "info"), "#info", "{broken");
    expect((await ctx.store.get("info", sessionId)).userInfo).toBeNull();
  });

  it("a hash key of the wrong type surfaces as a typed backend error, not a crash", async () => {
    await ctx.redis.set(userKey(ctx.prefix, "wrongtype"), "string");
    await expect(ctx.store.list("wrongtype")).rejects.toMatchObject({ code: "ERR_SESSION_BACKEND" });
    await expect(ctx.store.get("wrongtype", "A".repeat(43))).rejects.toMatchObject({ code: "ERR_SESSION_BACKEND" });
  });
});

describe("encodeRecord", () => {
  it("writes records the store reads back", async () => {
    const secret = "S".repeat(43);
    const now = Date.now();
    const value = encodeRecord(
      { createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 120_000 },
      { seeded: true },
      { name: "seeded device" },
    );
    await ctx.redis.hset(userKey(ctx.prefix, "seeded"), sessionKeyOf(secret), value);
    await expect(ctx.store.get("seeded", secret)).resolves.toMatchObject({
      data: { seeded: true },
      device: { name: "seeded device" },
      createdAt: now,
    });
  });
});
