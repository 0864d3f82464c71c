/**
 * Records written by an earlier release (version 1: decimal times, an object
 * body) stay readable, renewable and removable until their sessions end;
 * everything new is written as version 2.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sessionKeyOf, userKey } from "../../src/index.js";
import { openStore, type StoreContext, sleep } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore({ idleTimeoutMs: 60_000, touchIntervalMs: 0 });
});
afterEach(() => ctx.close());

const DEVICE = { name: "Old phone", platform: "ios", userAgent: "app/1.0", ip: "198.51.100.7" };

async function plantVersion1(userId: string, expiresInMs: number): Promise<string> {
  const secret = `${userId.padEnd(40, "x")}v1z`.slice(0, 43);
  const now = Date.now();
  const record = `1|${now - 5_000}|${now - 5_000}|${now + expiresInMs}|${now + 3_600_000}|${JSON.stringify({ d: { legacy: true }, v: DEVICE })}`;
  const key = userKey(ctx.prefix, userId);
  await ctx.redis.hset(key, sessionKeyOf(secret), record);
  await ctx.redis.pexpire(key, 3_600_000 + 600_000);
  return secret;
}

describe("record versions", () => {
  it("writes version 2: base-36 times (offsets from createdAt) and an array body", async () => {
    const { sessionId, session } = await ctx.store.create("fresh", { data: { a: 1 }, device: { name: "n", ip: "i" } });
    const stored = (await ctx.redis.hget(userKey(ctx.prefix, "fresh"), sessionKeyOf(sessionId))) as string;
    const [version, created, , expires] = stored.split("|");
    expect(version).toBe("2");
    expect(Number.parseInt(created as string, 36)).toBe(session.createdAt);
    expect(Number.parseInt(created as string, 36) + Number.parseInt(expires as string, 36)).toBe(session.expiresAt);
    expect(stored.endsWith('|[{"a":1},"n",null,null,"i"]')).toBe(true);
    expect((await ctx.store.get("fresh", sessionId)).device).toEqual({ name: "n", ip: "i" });
  });

  it("reads a version 1 record and renews it in version 1", async () => {
    const secret = await plantVersion1("legacy", 10_000);
    const key = userKey(ctx.prefix, "legacy");
    const before = (await ctx.redis.hget(key, sessionKeyOf(secret))) as string;
    await sleep(5);
    const session = await ctx.store.get("legacy", secret);
    expect(session).toMatchObject({ data: { legacy: true }, device: DEVICE });
    expect(session.expiresAt).toBeGreaterThan(Date.now() + 50_000);
    const after = (await ctx.redis.hget(key, sessionKeyOf(secret))) as string;
    expect(after.startsWith("1|")).toBe(true);
    expect(after).not.toBe(before);
    expect(after.slice(after.indexOf("{"))).toBe(before.slice(before.indexOf("{")));
    expect(Number(after.split("|")[3])).toBe(session.expiresAt);
  });

  it("lists, cleans and counts version 1 records beside version 2 ones", async () => {
    await plantVersion1("mixed-versions", 60_000);
    const expired = await plantVersion1("mixed-versions-2", -1_000);
    const fresh = await ctx.store.create("mixed-versions");
    expect((await ctx.store.list("mixed-versions")).map((s) => s.device.name).sort()).toEqual(["Old phone", undefined]);
    expect(fresh.session.device).toEqual({});
    expect(await ctx.store.cleanUsers(["mixed-versions", "mixed-versions-2"], { reschedule: false })).toEqual([
      { deletedSessions: 0, deletedHash: false, nextDueAt: expect.any(Number) },
      { deletedSessions: 1, deletedHash: true, nextDueAt: null },
    ]);
    expect(await ctx.redis.hexists(userKey(ctx.prefix, "mixed-versions-2"), sessionKeyOf(expired))).toBe(0);
    expect(await ctx.store.removeAll("mixed-versions")).toBe(2);
  });
});
