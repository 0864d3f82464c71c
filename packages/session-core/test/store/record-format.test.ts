/**
 * The stored record (src/record.ts): what this release writes, the handle a rotated session keeps
 * in its record, and records written by a newer release that appended body elements, which every
 * operation reads and keeps rather than deleting.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activityShardKey, encodeRecord, sessionKeyOf, slotOf, userKey } from "../../src/index.js";
import { openStore, type StoreContext, sleep } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore({ idleTimeoutMs: 60_000, touchIntervalMs: 0 });
});
afterEach(() => ctx.close());

const HANDLE = "Kept0handle_of-a";

/** Plants a live record (as a newer release or a rotation would write it) under a fresh secret. */
async function plant(userId: string, body: (record: string) => string, handle?: string): Promise<string> {
  const secret = `${userId.replace(/[^A-Za-z0-9]/g, "")}${"s".repeat(43)}`.slice(0, 43);
  const now = Date.now();
  const record = encodeRecord(
    { createdAt: now - 5_000, lastSeenAt: now - 5_000, expiresAt: now + 30_000, absoluteExpiresAt: now + 3_600_000 },
    { planted: true },
    { name: "Planted" },
    handle,
  );
  const key = userKey(ctx.prefix, userId);
  await ctx.redis.hset(key, sessionKeyOf(secret), body(record));
  await ctx.redis.pexpire(key, 3_600_000 + 600_000);
  return secret;
}

/** The record with elements appended to its body, as a newer release may write it. */
const newer = (record: string) =>
  `${record.slice(0, -1)}${record.includes(HANDLE) ? "" : ",null,null,null,null"},{"v":3},"later"]`;
const bodyOf = (record: string) => record.slice(record.indexOf("|["));

describe("the record this release writes", () => {
  it("is 2|, base-36 times (offsets from createdAt) and an array body", async () => {
    const { sessionId, session } = await ctx.store.create("fresh", { data: { a: 1 }, device: { name: "n", ip: "i" } });
    const stored = (await ctx.redis.hget(userKey(ctx.prefix, "fresh"), sessionKeyOf(sessionId))) as string;
    const [tag, created, , expires] = stored.split("|");
    expect(tag).toBe("2");
    expect(Number.parseInt(created as string, 36)).toBe(session.createdAt);
    expect(Number.parseInt(created as string, 36) + Number.parseInt(expires as string, 36)).toBe(session.expiresAt);
    expect(stored.endsWith('|[{"a":1},"n",null,null,"i"]')).toBe(true);
    expect((await ctx.store.get("fresh", sessionId)).device).toEqual({ name: "n", ip: "i" });
  });

  it("encodeRecord stores a handle as element 5 and refuses one that is not 16 base64url characters", () => {
    const times = { createdAt: 1, lastSeenAt: 1, expiresAt: 2, absoluteExpiresAt: 3 };
    expect(encodeRecord(times, 1, { name: "n" }, HANDLE)).toBe(`2|1|0|1|2|[1,"n",null,null,null,"${HANDLE}"]`);
    expect(encodeRecord(times, 1, {})).toBe("2|1|0|1|2|[1]");
    for (const bad of ["short", `${HANDLE}x`, "Kept0handle_of+a"]) {
      expect(() => encodeRecord(times, 1, {}, bad)).toThrow(expect.objectContaining({ code: "ERR_INVALID_INPUT" }));
    }
  });
});

describe("a stored handle (a rotated session's)", () => {
  it("is the handle get and list show, and the one revoke takes", async () => {
    const secret = await plant("rotated", (record) => record, HANDLE);
    const other = await ctx.store.create("rotated");
    expect((await ctx.store.get("rotated", secret)).handle).toBe(HANDLE);
    expect((await ctx.store.list("rotated")).map((s) => s.handle).sort()).toEqual(
      [HANDLE, other.session.handle].sort(),
    );
    // The field's own first characters are not its handle.
    expect(await ctx.store.revoke("rotated", sessionKeyOf(secret).slice(0, 16))).toBe(false);
    expect(await ctx.store.revoke("rotated", HANDLE)).toBe(true);
    expect((await ctx.store.list("rotated")).map((s) => s.handle)).toEqual([other.session.handle]);
    expect(await ctx.store.revoke("rotated", HANDLE)).toBe(false);
  });
});

describe("a record from a newer release, with body elements this one does not know", () => {
  it("is read by get and list, and renewed with those elements kept byte for byte", async () => {
    const secret = await plant("newer", newer);
    const key = userKey(ctx.prefix, "newer");
    const before = (await ctx.redis.hget(key, sessionKeyOf(secret))) as string;
    await sleep(5);
    const session = await ctx.store.get("newer", secret);
    expect(session).toMatchObject({ data: { planted: true }, device: { name: "Planted" } });
    expect(session.handle).toBe(sessionKeyOf(secret).slice(0, 16));
    const after = (await ctx.redis.hget(key, sessionKeyOf(secret))) as string;
    expect(after).not.toBe(before);
    expect(bodyOf(after)).toBe(bodyOf(before));
    expect(after.endsWith(',{"v":3},"later"]')).toBe(true);
    expect(await ctx.store.list("newer")).toHaveLength(1);
  });

  it("keeps its stored handle", async () => {
    const secret = await plant("newer-rotated", (record) => newer(record), HANDLE);
    expect((await ctx.store.get("newer-rotated", secret)).handle).toBe(HANDLE);
    expect(await ctx.store.revoke("newer-rotated", HANDLE)).toBe(true);
  });

  it("counts as a live session for the limit, removeOthers, removeAll, setUserInfo and the cleanup", async () => {
    const limited = ctx.another({ maxSessionsPerUser: 1, onLimit: "reject" });
    const secret = await plant("counted", newer);
    await expect(limited.create("counted")).rejects.toMatchObject({ code: "ERR_SESSION_LIMIT" });
    await ctx.store.setUserInfo("counted", secret, { set: "by the newer record" });
    const mine = await ctx.store.create("counted");
    expect(mine.session.userInfo).toEqual({ set: "by the newer record" });
    expect(await ctx.store.removeOthers("counted", mine.sessionId)).toBe(1);

    const again = await plant("counted", newer);
    const shard = activityShardKey(ctx.prefix, slotOf("counted"));
    await ctx.redis.zadd(shard, 1, "counted");
    expect(await ctx.store.sweepSlot(slotOf("counted"), 10)).toEqual({
      usersCleaned: 1,
      sessionsDeleted: 0,
      hashesDeleted: 0,
    });
    // Put back at the earliest live expiry, which is the newer record's: the sweep judged it live.
    const expiries = (await ctx.store.list("counted")).map((s) => s.expiresAt);
    expect(expiries).toHaveLength(2);
    expect(await ctx.redis.zscore(shard, "counted")).toBe(String(Math.min(...expiries)));
    expect(Math.min(...expiries)).toBeLessThan(mine.session.expiresAt);
    expect(await ctx.store.deleteExpiredSession("counted", sessionKeyOf(again))).toMatchObject({
      deletedSession: false,
    });
    expect(await ctx.store.removeAll("counted")).toBe(2);
  });
});
