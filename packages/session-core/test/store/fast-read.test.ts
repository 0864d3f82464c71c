/**
 * Reads served without a script (one HMGET, judged against Redis's clock)
 * must keep every promise the script makes: never an expired session, renewal
 * once per touch interval, corrupt records cleaned.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionExpiredError, SessionNotFoundError, sessionKeyOf, userKey } from "../../src/index.js";
import { openStore, type StoreContext, sleep } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  // Renewal never passes the absolute expiry, so reads run right up to it, on both paths.
  ctx = await openStore({ idleTimeoutMs: 1_500, absoluteTimeoutMs: 1_500, touchIntervalMs: 1_000 });
});
afterEach(() => ctx.close());

async function calls(command: string): Promise<number> {
  const stats = await ctx.redis.info("commandstats");
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

describe("reads without a script", () => {
  it("a clearly live session is served by one HMGET, no script", async () => {
    const { sessionId } = await ctx.store.create("fast");
    await ctx.store.get("fast", sessionId); // the first read syncs the clock
    await sleep(20);
    const [evalBefore, hmgetBefore] = [await calls("evalsha"), await calls("hmget")];
    for (let i = 0; i < 10; i++) await ctx.store.get("fast", sessionId);
    expect(await calls("hmget")).toBe(hmgetBefore + 10);
    expect(await calls("evalsha")).toBe(evalBefore);
  });

  it("never serves an expired session: reads across the expiry boundary", async () => {
    const { sessionId } = await ctx.store.create("boundary");
    const servedAfterExpiry: number[] = [];
    let expired = 0;
    const deadline = Date.now() + 2_500;
    while (Date.now() < deadline) {
      // A session served although it had expired before the request was even sent breaks the promise.
      const sentAt = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => ctx.store.get("boundary", sessionId)));
      for (const result of results) {
        if (result.status === "fulfilled") {
          if (result.value.expiresAt <= sentAt) servedAfterExpiry.push(sentAt - result.value.expiresAt);
        } else {
          expect(result.reason).toBeInstanceOf(SessionExpiredError);
          expired++;
        }
      }
      await sleep(25);
    }
    expect(expired).toBeGreaterThan(0);
    expect(servedAfterExpiry).toEqual([]);
  });

  it("still renews once the touch interval has passed", async () => {
    const store = ctx.another({ idleTimeoutMs: 10_000, absoluteTimeoutMs: 60_000, touchIntervalMs: 300 });
    const { sessionId, session } = await store.create("renew");
    const early = await store.get("renew", sessionId);
    expect(early.lastSeenAt).toBe(session.lastSeenAt);
    await sleep(350);
    const later = await store.get("renew", sessionId);
    expect(later.lastSeenAt).toBeGreaterThan(session.lastSeenAt);
    expect(later.expiresAt).toBe(later.lastSeenAt + 10_000);
  });

  it("sends a corrupt record to the script, which deletes it", async () => {
    const { sessionId } = await ctx.store.create("broken");
    await ctx.store.get("broken", sessionId);
    const key = userKey(ctx.prefix, "broken");
    await ctx.redis.hset(key, sessionKeyOf(sessionId), "1|garbage");
    await expect(ctx.store.get("broken", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await ctx.redis.hexists(key, sessionKeyOf(sessionId))).toBe(0);
  });

  it("sees a revocation at once", async () => {
    const { sessionId, session } = await ctx.store.create("revoked");
    await ctx.store.get("revoked", sessionId);
    await ctx.another().revoke("revoked", session.handle);
    await expect(ctx.store.get("revoked", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
  });
});
