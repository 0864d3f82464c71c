import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError, type JsonValue, type SessionStore } from "../../src/index.js";
import { openStore, type StoreContext } from "../support/store-context.js";

let ctx: StoreContext;
let store: SessionStore;
let valid: { sessionId: string; token: string };
beforeAll(async () => {
  ctx = await openStore({ maxDataBytes: 1024 });
  store = ctx.store;
  valid = await store.create("valid-user");
});
afterAll(() => ctx.close());

async function expectInvalid(action: () => Promise<unknown>, field: string, message?: RegExp) {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  expect((error as InvalidInputError).field).toBe(field);
  expect((error as InvalidInputError).code).toBe("ERR_INVALID_INPUT");
  expect((error as Error).message.startsWith(field)).toBe(true);
  if (message) expect((error as Error).message).toMatch(message);
}

const badUserIds: [string, unknown, RegExp][] = [
  ["empty", "", /empty/],
  ["over-long", "u".repeat(257), /at most 256/],
  ["an opening brace", "a{b", /braces/],
  ["a closing brace", "a}b", /braces/],
  ["a newline", "a\nb", /control/],
  ["a NUL", "a\u0000b", /control/],
  ["a line separator", "a\u2028b", /line separators/],
  ["a lone surrogate", "a\ud800b", /surrogate/],
  ["a number", 42, /must be a string/],
  ["undefined", undefined, /must be a string/],
];

describe("user ids", () => {
  it.each(badUserIds)("rejects %s in every method", async (_, userId, message) => {
    const id = userId as string;
    await expectInvalid(() => store.create(id), "userId", message);
    await expectInvalid(() => store.get(id, valid.sessionId), "userId", message);
    await expectInvalid(() => store.touch(id, valid.sessionId), "userId", message);
    await expectInvalid(() => store.list(id), "userId", message);
    await expectInvalid(() => store.remove(id, valid.sessionId), "userId", message);
    await expectInvalid(() => store.revoke(id, "AAAAAAAAAAAAAAAA"), "userId", message);
    await expectInvalid(() => store.removeOthers(id, valid.sessionId), "userId", message);
    await expectInvalid(() => store.removeAll(id), "userId", message);
    await expectInvalid(() => store.setUserInfo(id, valid.sessionId, {}), "userId", message);
    await expectInvalid(() => store.deleteExpiredSession(id, "A".repeat(43)), "userId", message);
  });

  it("keeps users whose ids differ only in case, spacing or Unicode form apart", async () => {
    const ids = ["Ann", "ann", "ann ", "é", "e\u0301", "a:b", "a-b"];
    const created = await Promise.all(ids.map((id) => store.create(id)));
    for (const [i, id] of ids.entries()) {
      expect(await store.list(id)).toHaveLength(1);
      await expect(store.get(id, created[i]?.sessionId ?? "")).resolves.toMatchObject({ userId: id });
    }
  });
});

describe("session ids, handles and tokens", () => {
  it.each([
    ["short", "abc"],
    ["with bad characters", `${"A".repeat(42)}+`],
    ["not a string", 123],
  ])("rejects a sessionId that is %s", async (_, sessionId) => {
    await expectInvalid(() => store.get("valid-user", sessionId as string), "sessionId");
    await expectInvalid(() => store.remove("valid-user", sessionId as string), "sessionId");
  });

  it("rejects a malformed handle", async () => {
    await expectInvalid(() => store.revoke("valid-user", "short"), "handle");
  });

  it("rejects malformed tokens without echoing them", async () => {
    for (const token of ["", "nodot", `${valid.token}x`, `x${valid.token.slice(1)}.`, null]) {
      await expectInvalid(() => store.authenticate(token as string), "token");
    }
  });
});

describe("data, device and user info", () => {
  class Point {
    constructor(public x: number) {}
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: [string, unknown, string][] = [
    ["a function", { f() {} }, "data.f"],
    ["a BigInt", { n: 1n }, "data.n"],
    ["NaN", { list: [1, Number.NaN] }, "data.list[1]"],
    ["Infinity", Number.POSITIVE_INFINITY, "data"],
    ["a Date", { at: new Date() }, "data.at"],
    ["a Map", { m: new Map() }, "data.m"],
    ["a class instance", { p: new Point(1) }, "data.p"],
    ["a symbol", { s: Symbol("x") }, "data.s"],
    ["a cycle", cyclic, "data.self"],
  ];
  it.each(cases)("rejects data holding %s, naming its path", async (_, data, field) => {
    await expectInvalid(() => store.create("valid-user", { data: data as JsonValue }), field);
  });

  it("rejects data and user info over maxDataBytes", async () => {
    await expectInvalid(() => store.create("valid-user", { data: "x".repeat(1100) }), "data", /over the limit of 1024/);
    await expectInvalid(
      () => store.setUserInfo("valid-user", valid.sessionId, { bio: "x".repeat(1100) }),
      "userInfo",
      /over the limit/,
    );
  });

  it("accepts data right at the limit and drops undefined properties like JSON does", async () => {
    const { session } = await store.create("valid-user", { data: { a: "x".repeat(1000), b: undefined } });
    expect(session.data).toEqual({ a: "x".repeat(1000) });
  });

  it.each([
    ["an unknown field", { os: "linux" }, "device.os"],
    ["a non-string name", { name: 5 }, "device.name"],
    ["an over-long user agent", { userAgent: "m".repeat(513) }, "device.userAgent"],
    ["an array", ["phone"], "device"],
  ])("rejects a device with %s", async (_, device, field) => {
    await expectInvalid(() => store.create("valid-user", { device: device as never }), field);
  });

  it.each([0, -1, 1.5, 100_001, Number.NaN])("rejects %s as a sweep or drain limit", async (limit) => {
    await expectInvalid(() => store.sweepSlot(0, limit), "limit", /from 1 to 100000/);
    await expectInvalid(() => store.drainLegacyActivity(limit), "limit", /from 1 to 100000/);
  });

  it.each([-1, 1.5, 16_384, Number.NaN])("rejects %s as a slot to sweep or look at", async (slot) => {
    await expectInvalid(() => store.sweepSlot(slot, 10), "slot", /from 0 to 16383/);
    await expectInvalid(() => store.findDueSlots([0, slot]), "slots[1]", /from 0 to 16383/);
  });

  it("rejects a non-array list of slots", async () => {
    await expectInvalid(() => store.findDueSlots(7 as never), "slots", /must be an array/);
  });

  it("rejects a non-object input to create", async () => {
    await expectInvalid(() => store.create("valid-user", "data" as never), "input");
  });

  it("writes nothing when input is rejected", async () => {
    const before = await store.list("valid-user");
    await store.create("valid-user", { data: { f: () => 1 } as never }).catch(() => {});
    expect(await store.list("valid-user")).toHaveLength(before.length);
  });
});
