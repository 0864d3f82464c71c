/**
 * The cleanup operations are public too (the worker calls them, and so may an
 * operator's script): every bad argument is an InvalidInputError naming it,
 * and a call with one bad entry is refused as a whole before anything is
 * written, so no well-formed entry of the same call is silently dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activityKey, InvalidInputError, type SessionStore } from "../../src/index.js";
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

describe("rescheduleUsers", () => {
  const bad: [string, unknown, string][] = [
    ["null", null, "entries"],
    ["a string", "user", "entries"],
    ["an object", { userId: "u", dueAt: 1 }, "entries"],
    ["a null entry", [null], "entries[0]"],
    ["a number entry", [7], "entries[0]"],
    ["a bad user id", [{ userId: "a{b", dueAt: 1 }], "entries[0].userId"],
    ["a missing user id", [{ dueAt: 1 }], "entries[0].userId"],
    ["a NaN dueAt", [{ userId: "u", dueAt: Number.NaN }], "entries[0].dueAt"],
    ["an Infinity dueAt", [{ userId: "u", dueAt: Number.POSITIVE_INFINITY }], "entries[0].dueAt"],
    ["a string dueAt", [{ userId: "u", dueAt: "1700000000000" }], "entries[0].dueAt"],
    ["a negative dueAt", [{ userId: "u", dueAt: -5 }], "entries[0].dueAt"],
    ["a fractional dueAt", [{ userId: "u", dueAt: 1.5 }], "entries[0].dueAt"],
  ];
  for (const [what, entries, field] of bad) {
    it(`refuses ${what} with InvalidInputError naming ${field}`, async () => {
      expect(await invalidField(() => call(store.rescheduleUsers.bind(store), entries))).toBe(field);
    });
  }

  it("refuses a call with one bad entry as a whole: nothing is written and nothing logged as a Redis failure", async () => {
    const key = activityKey(ctx.prefix);
    const entries = [
      { userId: "good-1", dueAt: 1_000 },
      { userId: "good-2", dueAt: Number.NaN },
      { userId: "good-3", dueAt: 3_000 },
    ];
    expect(await invalidField(() => store.rescheduleUsers(entries))).toBe("entries[1].dueAt");
    expect(await ctx.redis.zcard(key)).toBe(0);
    expect(ctx.logs.filter((line) => line.msg === "activity update failed")).toEqual([]);
  });

  it("schedules every well-formed entry of a good call", async () => {
    const key = activityKey(ctx.prefix);
    await store.rescheduleUsers([
      { userId: "ok-1", dueAt: 1_000 },
      { userId: "ok-2", dueAt: 2_000 },
    ]);
    expect(await ctx.redis.zscore(key, "ok-1")).toBe("1000");
    expect(await ctx.redis.zscore(key, "ok-2")).toBe("2000");
  });
});

describe("cleanUser and cleanUsers", () => {
  it("refuses a user id list that is not an array", async () => {
    expect(await invalidField(() => call(store.cleanUsers.bind(store), null))).toBe("userIds");
    expect(await invalidField(() => call(store.cleanUsers.bind(store), "u"))).toBe("userIds");
  });

  it("names the bad entry of a user id list", async () => {
    expect(await invalidField(() => call(store.cleanUsers.bind(store), ["fine", null]))).toBe("userIds[1]");
    expect(await invalidField(() => call(store.cleanUsers.bind(store), ["fine", "a}b"]))).toBe("userIds[1]");
  });

  it("refuses options that are not an object with a boolean reschedule", async () => {
    expect(await invalidField(() => call(store.cleanUser.bind(store), "u", null))).toBe("options");
    expect(await invalidField(() => call(store.cleanUsers.bind(store), ["u"], 5))).toBe("options");
    expect(await invalidField(() => call(store.cleanUsers.bind(store), ["u"], { reschedule: "no" }))).toBe(
      "options.reschedule",
    );
  });
});

describe("claimDueUsers, sweepDueUsers and deleteExpiredSession", () => {
  for (const limit of [null, "5", Number.NaN, 0, -1, 1.5, 100_001]) {
    it(`refuses the limit ${String(limit)}`, async () => {
      expect(await invalidField(() => call(store.claimDueUsers.bind(store), limit))).toBe("limit");
      expect(await invalidField(() => call(store.sweepDueUsers.bind(store), limit))).toBe("limit");
    });
  }

  it("refuses a malformed session key or user id", async () => {
    expect(await invalidField(() => call(store.deleteExpiredSession.bind(store), "u", null))).toBe("sessionKey");
    expect(await invalidField(() => call(store.deleteExpiredSession.bind(store), "u", "short"))).toBe("sessionKey");
    expect(await invalidField(() => call(store.deleteExpiredSession.bind(store), null, "x".repeat(43)))).toBe("userId");
  });
});
