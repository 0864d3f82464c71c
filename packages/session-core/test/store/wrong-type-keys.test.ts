/**
 * A user's key that holds another type than a hash (a shared prefix, a foreign writer): the cleanup
 * operations skip it, leave it as it is, report it once with the user id, and clean every other user
 * of the same call. No claimed user with a live session ever drops out of the activity set.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activityKey, userKey } from "../../src/index.js";
import { openStore, type StoreContext, sleep } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 60_000, touchIntervalMs: 0 });
});
afterEach(() => ctx.close());

const score = (userId: string) =>
  ctx.redis.zscore(activityKey(ctx.prefix), userId).then((s) => (s === null ? null : Number(s)));

/** Two users each with one expired and one live session, due now; and two foreign keys, due too. */
async function dueUsers(): Promise<Map<string, number>> {
  const long = ctx.another({ idleTimeoutMs: 60_000 });
  const kept = new Map<string, number>();
  for (const userId of ["alice", "bob"]) {
    await ctx.store.create(userId);
    kept.set(userId, (await long.create(userId)).session.expiresAt);
  }
  await ctx.redis.set(userKey(ctx.prefix, "text"), "foreign string");
  await ctx.redis.rpush(userKey(ctx.prefix, "queue"), "foreign", "list");
  // Due before alice and bob, so that a failing step would have claimed them all.
  await ctx.redis.zadd(activityKey(ctx.prefix), 1, "text", 2, "queue");
  await sleep(350);
  return kept;
}

async function expectForeignKeysUntouched(): Promise<void> {
  expect(await ctx.redis.get(userKey(ctx.prefix, "text"))).toBe("foreign string");
  expect(await ctx.redis.lrange(userKey(ctx.prefix, "queue"), 0, -1)).toEqual(["foreign", "list"]);
}

function warnedUsers(): string[] {
  return ctx.logs
    .filter((line) => line.level === "warn" && line.msg.includes("not a hash"))
    .map((line) => (line.obj as { userId: string }).userId);
}

describe("a user key of another type", () => {
  it("is skipped by a sweep step, which still cleans and re-adds the other claimed users", async () => {
    const kept = await dueUsers();
    expect(await ctx.store.sweepDueUsers(10)).toEqual({ usersCleaned: 4, sessionsDeleted: 2, hashesDeleted: 0 });
    for (const [userId, expiresAt] of kept) {
      expect(await score(userId), userId).toBe(expiresAt);
      expect(await ctx.redis.hlen(userKey(ctx.prefix, userId)), userId).toBe(1);
    }
    await expectForeignKeysUntouched();
    expect(warnedUsers().sort()).toEqual(["queue", "text"]);
    // Nothing of ours lives there, so it is not put back: the next sweep does not report it again.
    expect(await score("text")).toBeNull();
    expect(await ctx.store.sweepDueUsers(10)).toEqual({ usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 });
    expect(warnedUsers()).toHaveLength(2);
  });

  it("is skipped by cleanUsers, which cleans and reschedules the others", async () => {
    const kept = await dueUsers();
    expect(await ctx.store.claimDueUsers(10)).toEqual(["text", "queue", "alice", "bob"]);
    const results = await ctx.store.cleanUsers(["alice", "text", "bob", "queue"]);
    expect(results).toEqual([
      { deletedSessions: 1, deletedHash: false, nextDueAt: kept.get("alice") },
      { deletedSessions: 0, deletedHash: false, nextDueAt: null, wrongType: "string" },
      { deletedSessions: 1, deletedHash: false, nextDueAt: kept.get("bob") },
      { deletedSessions: 0, deletedHash: false, nextDueAt: null, wrongType: "list" },
    ]);
    for (const [userId, expiresAt] of kept) expect(await score(userId), userId).toBe(expiresAt);
    await expectForeignKeysUntouched();
    expect(warnedUsers()).toEqual(["text", "queue"]);
  });

  it("is skipped by cleanUser", async () => {
    await dueUsers();
    expect(await ctx.store.cleanUser("text")).toEqual({
      deletedSessions: 0,
      deletedHash: false,
      nextDueAt: null,
      wrongType: "string",
    });
    await expectForeignKeysUntouched();
    expect(warnedUsers()).toEqual(["text"]);
  });
});
