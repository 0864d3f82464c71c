import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  activityShardKey,
  encodeRecord,
  SessionNotFoundError,
  sessionKeyOf,
  slotOf,
  userKey,
} from "../../src/index.js";
import { usersInOneSlot } from "../support/slots.js";
import { openStore, type StoreContext } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore();
});
afterEach(() => ctx.close());

const shardOf = (userId: string) => activityShardKey(ctx.prefix, slotOf(userId));

const later = (Date.now() + 60_000).toString(36);
const corruptValues = [
  ["garbage", "garbage"],
  ["a broken header", `2|1|1|${later}|@@|[1]`],
  ["upper-case times", `2|1|1|${later.toUpperCase()}|${later}|[1]`],
  ["a body that is not an array", `2|1|1|${later}|${later}|{"d":1}`],
  ["an empty body", `2|1|1|${later}|${later}|[]`],
  ["a device field that is not a string", `2|1|1|${later}|${later}|[1,5]`],
  ["a stored handle that is not a handle", `2|1|1|${later}|${later}|[1,"a","b","c","d","e"]`],
  ["another tag", `9|1|1|${later}|${later}|[1]`],
  ["the unreleased version 1 format", `1|1|1|${Date.now() + 60_000}|${Date.now() + 60_000}|{"d":1}`],
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
    await ctx.redis.zadd(shardOf("mixed"), 1, "mixed");
    expect(await ctx.store.sweepSlot(slotOf("mixed"), 10)).toEqual({
      usersCleaned: 1,
      sessionsDeleted: 1,
      hashesDeleted: 0,
    });
    expect(await ctx.redis.hexists(key, "C".repeat(43))).toBe(0);
    // Put back at its one live session's expiry: the corrupt record counted for nothing.
    expect(await ctx.redis.zscore(shardOf("mixed"), "mixed")).toBe(String(mine.session.expiresAt));
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

/**
 * Records whose header is well formed but which are corrupt all the same: every operation must
 * treat them as no session (the TypeScript reader and the Lua scripts share one definition), and
 * the deletion job must delete them. The sweep reads no further than the expiry a header states:
 * it deletes such a record once that time is past (or at once when no time can be read), and
 * until then leaves it to the read or list that meets it first.
 */
const soon = (Date.now() + 600_000).toString(36);
const past = (Date.now() - 600_000).toString(36);
/** Label, the record, and whether its header states an expiry the sweep can read. */
const headerOnlyCorrupt = [
  ["a body that is not JSON", (at: string) => `2|1|1|${at}|${at}|{not json`, true],
  ["a body that is an object", (at: string) => `2|1|1|${at}|${at}|{"d":1}`, true],
  ["a device field that is a number", (at: string) => `2|1|1|${at}|${at}|[1,5]`, true],
  ["a stored handle that is not one", (at: string) => `2|1|1|${at}|${at}|[1,null,null,null,null,"short"]`, true],
  ["a number JSON does not allow (cjson would)", (at: string) => `2|1|1|${at}|${at}|[1.]`, true],
  ["a time of 11 digits", (at: string) => `2|1|1|${at.padStart(11, "0")}|${at}|[1]`, false],
  ["a time of 16 digits", (at: string) => `2|1|1|${at.padStart(16, "0")}|${at}|[1]`, false],
] as const;

const secretOf = (label: string) => `${label.replace(/[^A-Za-z0-9]/g, "").padEnd(43, "q")}`.slice(0, 43);

/** A good session and, beside it, a planted corrupt one under a known secret, due in its slot's activity shard. */
async function plant(
  userId: string,
  value: string,
): Promise<{ good: string; secret: string; field: string; expiresAt: number }> {
  const good = await ctx.store.create(userId);
  const secret = secretOf(`planted${userId}`);
  const field = sessionKeyOf(secret);
  const key = userKey(ctx.prefix, userId);
  await ctx.redis.hset(key, field, value);
  await ctx.redis.zadd(shardOf(userId), 1, userId);
  return { good: good.sessionId, secret, field, expiresAt: good.session.expiresAt };
}

describe.each(headerOnlyCorrupt)("a record with %s, header well formed", (_, record, statesExpiry) => {
  const value = record(soon);
  const stated = 1 + Number.parseInt(soon, 36);

  it("does not let removeOthers act on its behalf", async () => {
    const { good, secret } = await plant("others", value);
    await expect(ctx.store.removeOthers("others", secret)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.get("others", good)).resolves.toBeTruthy();
  });

  it("does not let setUserInfo act on its behalf", async () => {
    await ctx.store.create("info", { userInfo: { kept: true } });
    const { good, secret } = await plant("info", value);
    await expect(ctx.store.setUserInfo("info", secret, { overwritten: true })).rejects.toBeInstanceOf(
      SessionNotFoundError,
    );
    expect((await ctx.store.get("info", good)).userInfo).toEqual({ kept: true });
  });

  it("is not a live session to revoke", async () => {
    const { field } = await plant("revoker", value);
    expect(await ctx.store.revoke("revoker", field.slice(0, 16))).toBe(false);
  });

  it("does not count towards maxSessionsPerUser", async () => {
    const strict = ctx.another({ maxSessionsPerUser: 2, onLimit: "reject" });
    await plant("limited", value);
    await expect(strict.create("limited")).resolves.toBeTruthy();
  });

  it("does not count in removeAll", async () => {
    await plant("everything", value);
    expect(await ctx.store.removeAll("everything")).toBe(1);
  });

  it("is deleted by deleteExpiredSession", async () => {
    const { field } = await plant("job", value);
    expect(await ctx.store.deleteExpiredSession("job", field)).toEqual({ deletedSession: true, deletedHash: false });
  });

  it("is kept by the sweeper until its stated expiry, unless no expiry can be read, and never served", async () => {
    const { good, secret, field, expiresAt } = await plant("swept", value);
    expect(await ctx.store.findDueSlots([slotOf("swept")])).toEqual([slotOf("swept")]);
    expect(await ctx.store.sweepSlot(slotOf("swept"), 10)).toEqual({
      usersCleaned: 1,
      sessionsDeleted: statesExpiry ? 0 : 1,
      hashesDeleted: 0,
    });
    expect(await ctx.redis.hexists(userKey(ctx.prefix, "swept"), field)).toBe(statesExpiry ? 1 : 0);
    // Back in its shard at the earlier of its live session's expiry and the corrupt record's stated one.
    const score = statesExpiry ? Math.min(stated, expiresAt) : expiresAt;
    expect(await ctx.redis.zscore(shardOf("swept"), "swept")).toBe(String(score));
    await expect(ctx.store.get("swept", secret)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await ctx.redis.hexists(userKey(ctx.prefix, "swept"), field)).toBe(0);
    await expect(ctx.store.get("swept", good)).resolves.toBeTruthy();
  });

  it("is deleted by the sweeper once its stated expiry is past, for each user of one step on its own", async () => {
    const expired = record(past);
    const { slot, userIds } = usersInOneSlot("corrupt", 2);
    const planted = [];
    for (const userId of userIds) planted.push(await plant(userId, expired));
    // A third user of the slot whose only record is corrupt: its hash goes.
    const { userIds: lone } = usersInOneSlot("corrupt", 3);
    const alone = lone[2] as string;
    await ctx.redis.hset(userKey(ctx.prefix, alone), "E".repeat(43), expired);
    await ctx.redis.zadd(shardOf(alone), 2, alone);
    expect(await ctx.store.sweepSlot(slot, 10)).toEqual({ usersCleaned: 3, sessionsDeleted: 3, hashesDeleted: 1 });
    for (const [i, userId] of userIds.entries()) {
      expect(await ctx.redis.hexists(userKey(ctx.prefix, userId), planted[i]?.field as string), userId).toBe(0);
      expect(await ctx.redis.zscore(shardOf(userId), userId)).toBe(String(planted[i]?.expiresAt));
      await expect(ctx.store.get(userId, planted[i]?.good as string)).resolves.toBeTruthy();
    }
    expect(await ctx.redis.exists(userKey(ctx.prefix, alone))).toBe(0);
  });

  it("is left out of list and get", async () => {
    const { good, secret } = await plant("reader", value);
    expect(await ctx.store.list("reader")).toHaveLength(1);
    await expect(ctx.store.get("reader", secret)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.get("reader", good)).resolves.toBeTruthy();
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
