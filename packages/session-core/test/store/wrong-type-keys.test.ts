/**
 * A user's key that holds another type than a hash (a shared prefix, a foreign writer): the sweep
 * skips it, leaves it as it is, reports it once with the user id, and cleans and re-adds every other
 * due user of the same slot in the same call. No claimed user with a live session ever drops out of
 * its activity shard. The users here share one slot, so one sweep step meets them all.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activityShardKey, encodeRecord, userKey } from "../../src/index.js";
import { usersInOneSlot } from "../support/slots.js";
import { forEachTopology, openStore, type StoreContext, sleep } from "../support/store-context.js";

/** Four user ids in one slot: two users of ours, and two whose keys a foreign writer holds. */
const {
  slot,
  userIds: [alice, bob, text, queue],
} = usersInOneSlot("wrong-type", 4) as { slot: number; userIds: [string, string, string, string] };

forEachTopology((topology) => {
  let ctx: StoreContext;
  beforeEach(async () => {
    ctx = await openStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 60_000, touchIntervalMs: 0 }, topology);
  });
  afterEach(() => ctx.close());

  const shard = () => activityShardKey(ctx.prefix, slot);
  const score = (userId: string) => ctx.redis.zscore(shard(), userId).then((s) => (s === null ? null : Number(s)));

  /** alice and bob each with one expired and one live session, due now; and two foreign keys, due before them. */
  async function dueUsers(): Promise<Map<string, number>> {
    const long = ctx.another({ idleTimeoutMs: 60_000 });
    const kept = new Map<string, number>();
    for (const userId of [alice, bob]) {
      await ctx.store.create(userId);
      kept.set(userId, (await long.create(userId)).session.expiresAt);
    }
    await ctx.redis.set(userKey(ctx.prefix, text), "foreign string");
    await ctx.redis.rpush(userKey(ctx.prefix, queue), "foreign", "list");
    // Due before alice and bob, so that a step that failed on them would have claimed them all.
    await ctx.redis.zadd(shard(), 1, text, 2, queue);
    await sleep(350);
    return kept;
  }

  async function expectForeignKeysUntouched(): Promise<void> {
    expect(await ctx.redis.get(userKey(ctx.prefix, text))).toBe("foreign string");
    expect(await ctx.redis.lrange(userKey(ctx.prefix, queue), 0, -1)).toEqual(["foreign", "list"]);
  }

  /** The users reported as not a hash, with the type reported, in the order logged. */
  function warned(): [string, string][] {
    return ctx.logs
      .filter((line) => line.level === "warn" && line.msg.includes("not a hash"))
      .map((line) => {
        const { userId, type } = line.obj as { userId: string; type: string };
        return [userId, type];
      });
  }

  describe("a user key of another type", () => {
    it("is skipped by a sweep step, which still cleans and re-adds the other due users of its slot", async () => {
      const kept = await dueUsers();
      expect(await ctx.store.sweepSlot(slot, 10)).toEqual({ usersCleaned: 4, sessionsDeleted: 2, hashesDeleted: 0 });
      for (const [userId, expiresAt] of kept) {
        expect(await score(userId), userId).toBe(expiresAt);
        expect(await ctx.redis.hlen(userKey(ctx.prefix, userId)), userId).toBe(1);
      }
      await expectForeignKeysUntouched();
      expect(warned()).toEqual([
        [text, "string"],
        [queue, "list"],
      ]);
      // Nothing of ours lives there, so it is not put back: the next sweep does not report it again.
      expect(await score(text)).toBeNull();
      expect(await score(queue)).toBeNull();
      expect(await ctx.store.findDueSlots([slot])).toEqual([]);
      expect(await ctx.store.sweepSlot(slot, 10)).toEqual({ usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 });
      expect(warned()).toHaveLength(2);
    });

    it("counts as claimed, so a step that met only foreign keys does not look like an empty shard", async () => {
      const kept = await dueUsers();
      // The two due first are the foreign keys: a full step of 2, so the caller goes on.
      expect(await ctx.store.sweepSlot(slot, 2)).toEqual({ usersCleaned: 2, sessionsDeleted: 0, hashesDeleted: 0 });
      await expectForeignKeysUntouched();
      expect(warned().map(([userId]) => userId)).toEqual([text, queue]);
      expect(await ctx.store.findDueSlots([slot])).toEqual([slot]);
      for (const userId of [alice, bob]) expect(await ctx.redis.hlen(userKey(ctx.prefix, userId)), userId).toBe(2);

      expect(await ctx.store.sweepSlot(slot, 10)).toEqual({ usersCleaned: 2, sessionsDeleted: 2, hashesDeleted: 0 });
      for (const [userId, expiresAt] of kept) expect(await score(userId), userId).toBe(expiresAt);
      expect(warned()).toHaveLength(2);
    });

    it("is left alone under the TTL fast path: a key whose TTL minus the grace is past is deleted only if it is a hash", async () => {
      const grace = ctx.store.settings.keyGraceMs;
      const now = Date.now();
      // Each key's TTL says every session in it ended (TTL minus grace is past), though the keys still exist.
      const endedAt = now + grace - 5_000;
      const record = encodeRecord(
        { createdAt: now, lastSeenAt: now, expiresAt: now + 3_600_000, absoluteExpiresAt: now + 3_600_000 },
        {},
        {},
      );
      await ctx.redis.hset(userKey(ctx.prefix, alice), "L".repeat(43), record);
      await ctx.redis.set(userKey(ctx.prefix, text), "foreign string");
      await ctx.redis.rpush(userKey(ctx.prefix, queue), "foreign", "list");
      for (const userId of [alice, text, queue]) await ctx.redis.pexpireat(userKey(ctx.prefix, userId), endedAt);
      await ctx.redis.zadd(shard(), 1, text, 2, queue, 3, alice);

      // alice's hash goes whole without its live-looking record being read: the fast path ran in this call.
      expect(await ctx.store.sweepSlot(slot, 10)).toEqual({ usersCleaned: 3, sessionsDeleted: 1, hashesDeleted: 1 });
      expect(await ctx.redis.exists(userKey(ctx.prefix, alice))).toBe(0);
      await expectForeignKeysUntouched();
      for (const userId of [text, queue]) {
        expect(await ctx.redis.pexpiretime(userKey(ctx.prefix, userId)), userId).toBe(endedAt);
        expect(await score(userId), userId).toBeNull();
      }
      expect(warned()).toEqual([
        [text, "string"],
        [queue, "list"],
      ]);
    });
  });
});
