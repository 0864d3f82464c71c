/**
 * The worker's operations are public too (the worker calls them, and so may
 * an operator's script): every bad argument is an InvalidInputError naming
 * it, and a call with one bad entry is refused as a whole before anything is
 * read or written, so no well-formed entry of the same call is silently
 * dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activityShardKey,
  InvalidInputError,
  legacyActivityKey,
  type SessionStore,
  SLOT_COUNT,
  slotOf,
} from "../../src/index.js";
import { openStore, type StoreContext } from "../support/store-context.js";

let ctx: StoreContext;
let store: SessionStore;
beforeAll(async () => {
  ctx = await openStore();
  store = ctx.store;
});
afterAll(() => ctx.close());

async function invalidField(action: () => Promise<unknown>): Promise<string> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  return (error as InvalidInputError).field;
}

const call = <T>(fn: (...args: never[]) => T, ...args: unknown[]) => (fn as (...a: unknown[]) => T)(...args);

const badSlots: unknown[] = [null, undefined, "5", Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, SLOT_COUNT, 2 ** 53];
const badLimits: unknown[] = [null, "5", Number.NaN, 0, -1, 1.5, 100_001];

describe("findDueSlots", () => {
  it("refuses a slot list that is not an array", async () => {
    for (const slots of [null, undefined, 5, "0,1", { 0: 1, length: 1 }, new Set([1])]) {
      expect(await invalidField(() => call(store.findDueSlots.bind(store), slots)), String(slots)).toBe("slots");
    }
  });

  for (const slot of badSlots) {
    it(`names the bad entry ${String(slot)} of a slot list by its index`, async () => {
      expect(await invalidField(() => call(store.findDueSlots.bind(store), [0, 1, slot]))).toBe("slots[2]");
    });
  }

  it("refuses a call with one bad entry as a whole, though another entry is due", async () => {
    await ctx.redis.zadd(activityShardKey(ctx.prefix, slotOf("due-user")), 1, "due-user");
    expect(await store.findDueSlots([slotOf("due-user")])).toEqual([slotOf("due-user")]);
    expect(await invalidField(() => call(store.findDueSlots.bind(store), [slotOf("due-user"), -1]))).toBe("slots[1]");
  });

  it("accepts the first and the last slot", async () => {
    expect(await store.findDueSlots([0, SLOT_COUNT - 1])).toEqual([]);
  });
});

describe("sweepSlot", () => {
  for (const slot of badSlots) {
    it(`refuses the slot ${String(slot)}`, async () => {
      expect(await invalidField(() => call(store.sweepSlot.bind(store), slot, 10))).toBe("slot");
    });
  }

  for (const limit of badLimits) {
    it(`refuses the limit ${String(limit)}`, async () => {
      expect(await invalidField(() => call(store.sweepSlot.bind(store), 0, limit))).toBe("limit");
    });
  }

  it("claims nothing when refused: a due user stays in its shard at its score", async () => {
    const shard = activityShardKey(ctx.prefix, slotOf("kept-due"));
    await ctx.redis.zadd(shard, 1, "kept-due");
    // Past the bound by one: a sweep that did not check would claim (and forget) the user.
    expect(await invalidField(() => store.sweepSlot(slotOf("kept-due"), 100_001))).toBe("limit");
    expect(await ctx.redis.zscore(shard, "kept-due")).toBe("1");
  });

  it("accepts the first and the last slot, and the limits 1 and 100000", async () => {
    const none = { usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 };
    expect(await store.sweepSlot(0, 1)).toEqual(none);
    expect(await store.sweepSlot(SLOT_COUNT - 1, 100_000)).toEqual(none);
  });
});

describe("drainLegacyActivity", () => {
  for (const limit of badLimits) {
    it(`refuses the limit ${String(limit)}`, async () => {
      expect(await invalidField(() => call(store.drainLegacyActivity.bind(store), limit))).toBe("limit");
    });
  }

  it("moves nothing when refused: the old set stays as it was", async () => {
    const legacy = legacyActivityKey(ctx.prefix);
    await ctx.redis.zadd(legacy, 5, "old-user");
    expect(await invalidField(() => store.drainLegacyActivity(100_001))).toBe("limit");
    expect(await ctx.redis.zrange(legacy, "0", "-1", "WITHSCORES")).toEqual(["old-user", "5"]);
    expect(await ctx.redis.zscore(activityShardKey(ctx.prefix, slotOf("old-user")), "old-user")).toBeNull();
  });
});

describe("deleteExpiredSession", () => {
  it("refuses a malformed session key or user id", async () => {
    expect(await invalidField(() => call(store.deleteExpiredSession.bind(store), "u", null))).toBe("sessionKey");
    expect(await invalidField(() => call(store.deleteExpiredSession.bind(store), "u", "short"))).toBe("sessionKey");
    expect(await invalidField(() => call(store.deleteExpiredSession.bind(store), null, "x".repeat(43)))).toBe("userId");
    expect(await invalidField(() => call(store.deleteExpiredSession.bind(store), "a{b", "x".repeat(43)))).toBe(
      "userId",
    );
  });
});
