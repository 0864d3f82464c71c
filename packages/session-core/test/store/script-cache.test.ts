/**
 * Scripts run by EVALSHA; a Redis that lost its script cache (restarted,
 * failed over, SCRIPT FLUSH) answers NOSCRIPT, and the store must reload the
 * script and carry on, with no error reaching the caller.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activityShardKey, legacyActivityKey, slotOf } from "../../src/index.js";
import { openStore, type StoreContext } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore({ touchIntervalMs: 0 });
});
afterEach(() => ctx.close());

describe("the script cache", () => {
  it("every operation recovers from an emptied script cache, concurrently", async () => {
    const { sessionId, token } = await ctx.store.create("cache-user", { userInfo: { n: 1 } });
    const other = await ctx.store.create("cache-user");
    // Something for each of the worker's scripts to act on: a due user, an old activity set to drain.
    await ctx.redis.zadd(activityShardKey(ctx.prefix, slotOf("cache-user")), 1, "cache-user");
    await ctx.redis.zadd(legacyActivityKey(ctx.prefix), 1, "old-user");
    await ctx.redis.script("FLUSH");
    const results = await Promise.all([
      ctx.store.get("cache-user", sessionId),
      ctx.store.authenticate(token),
      ctx.store.touch("cache-user", sessionId),
      ctx.store.list("cache-user"),
      ctx.store.setUserInfo("cache-user", sessionId, { n: 2 }),
      ctx.store.create("cache-user-2"),
      ctx.store.sweepSlot(slotOf("cache-user"), 10),
      ctx.store.drainLegacyActivity(10),
      ctx.store.deleteExpiredSession("cache-user", "A".repeat(43)),
    ]);
    expect(results[0]).toMatchObject({ userId: "cache-user" });
    expect(results[3]).toHaveLength(2);
    expect(results[6]).toEqual({ usersCleaned: 1, sessionsDeleted: 0, hashesDeleted: 0 });
    expect(results[7]).toBe(1);
    expect(await ctx.redis.exists(legacyActivityKey(ctx.prefix))).toBe(0);
    expect(results[8]).toEqual({ deletedSession: false, deletedHash: false });
    expect(await ctx.redis.script("EXISTS", ...(await scriptShas()))).not.toContain(0);
    await ctx.redis.script("FLUSH");
    expect(await ctx.store.revoke("cache-user", other.session.handle)).toBe(true);
    await ctx.redis.script("FLUSH");
    expect(await ctx.store.removeAll("cache-user")).toBe(1);
  });
});

async function scriptShas(): Promise<string[]> {
  const { loadScripts } = await import("../../src/scripts/index.js");
  const scripts = loadScripts();
  const names = [
    "readSession",
    "listSessions",
    "setUserInfo",
    "createSession",
    "sweepShard",
    "drainLegacyActivity",
    "deleteExpiredSession",
  ];
  return names.map((name) => scripts[name as keyof typeof scripts].sha);
}
