/**
 * What reaches Redis is exactly what was checked. Each hostile value below
 * slipped past the old check (which read the value once, then let
 * JSON.stringify read it again): a toJSON, own, hidden or inherited; a getter
 * that answers differently on its second read or throws; a Proxy that shows
 * other keys each time. Every one must be refused with InvalidInputError
 * naming the path, and leave Redis as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError, type JsonValue, type SessionStore, userKey } from "../../src/index.js";
import { openStore, type StoreContext } from "../support/store-context.js";

let ctx: StoreContext;
let store: SessionStore;
beforeAll(async () => {
  ctx = await openStore({ maxDataBytes: 4096 });
  store = ctx.store;
});
afterAll(() => ctx.close());

let users = 0;
const freshUser = () => `stored-${++users}`;
const keyOf = (userId: string) => userKey(ctx.prefix, userId);

/** `levels` arrays nested in each other around a 0: past the depth limit of 64 at 65. */
function nested(levels: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

async function refusal(action: () => Promise<unknown>): Promise<InvalidInputError> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, String(error)).toBeInstanceOf(InvalidInputError);
  return error as InvalidInputError;
}

/** A fresh hostile value per call (getters and proxies keep state); `path` is where it is refused. */
const hostile: [name: string, make: () => unknown, path: string, message: RegExp][] = [
  ["an array with its own toJSON", () => Object.assign([1], { toJSON: () => nested(100) }), "", /toJSON/],
  [
    "a hidden (non-enumerable) toJSON returning a BigInt",
    () => Object.defineProperty({ a: 1 }, "toJSON", { value: () => ({ n: 1n }) }),
    "",
    /toJSON/,
  ],
  [
    "an array inheriting a toJSON",
    () => Object.setPrototypeOf([1], { toJSON: () => "swapped" }),
    "",
    /not a plain JSON array/,
  ],
  [
    "a toJSON returning a cycle",
    () =>
      Object.defineProperty({ a: 1 }, "toJSON", {
        value: () => {
          const loop: Record<string, unknown> = {};
          loop.loop = loop;
          return loop;
        },
      }),
    "",
    /toJSON/,
  ],
  [
    "a getter that nests past the depth limit on its second read",
    () => {
      let reads = 0;
      return {
        get v() {
          return reads++ === 0 ? 1 : nested(100);
        },
      };
    },
    ".v",
    /getter/,
  ],
  [
    "a getter that turns into a BigInt on its second read",
    () => {
      let reads = 0;
      return {
        get v() {
          return reads++ === 0 ? 1 : 1n;
        },
      };
    },
    ".v",
    /getter/,
  ],
  [
    "a getter that throws",
    () => ({
      get v(): number {
        throw new Error("boom");
      },
    }),
    ".v",
    /getter/,
  ],
  [
    "a hidden getter on an array element",
    () => {
      let reads = 0;
      return Object.defineProperty([0], 0, { get: () => (reads++ === 0 ? 0 : nested(100)), enumerable: false });
    },
    "[0]",
    /getter/,
  ],
  [
    "a Proxy that shows another key on its second look",
    () => {
      let looks = 0;
      return new Proxy({} as Record<string, unknown>, {
        ownKeys: () => (looks++ === 0 ? ["a"] : ["a", "b"]),
        getOwnPropertyDescriptor: (_, key) => ({ value: key === "a" ? 1 : 1n, enumerable: true, configurable: true }),
        get: (_, key) => (key === "a" ? 1 : key === "b" ? 1n : undefined),
      });
    },
    "",
    /Proxy/,
  ],
];

describe("hostile values are refused and nothing is stored", () => {
  it.each(hostile)("create's data: %s", async (_, make, path, message) => {
    const userId = freshUser();
    const error = await refusal(() => store.create(userId, { data: make() as JsonValue }));
    expect(error.field).toBe(`data${path}`);
    expect(error.message).toMatch(message);
    expect(await ctx.redis.exists(keyOf(userId))).toBe(0);
  });

  it.each(hostile)("create's user info: %s", async (_, make, path, message) => {
    const userId = freshUser();
    const error = await refusal(() => store.create(userId, { userInfo: make() as JsonValue }));
    expect(error.field).toBe(`userInfo${path}`);
    expect(error.message).toMatch(message);
    expect(await ctx.redis.exists(keyOf(userId))).toBe(0);
  });

  it.each(hostile)("setUserInfo: %s", async (_, make, path, message) => {
    const userId = freshUser();
    const { sessionId } = await store.create(userId, { userInfo: { plan: "free" } });
    const before = await ctx.redis.hgetall(keyOf(userId));
    const error = await refusal(() => store.setUserInfo(userId, sessionId, make() as JsonValue));
    expect(error.field).toBe(`userInfo${path}`);
    expect(error.message).toMatch(message);
    expect(await ctx.redis.hgetall(keyOf(userId))).toEqual(before);
  });

  it("a toJSON planted on Object.prototype is refused too", async () => {
    const userId = freshUser();
    const prototype = Object.prototype as { toJSON?: () => unknown };
    let pending: Promise<unknown>;
    // The check runs before create's first await, so the planted method is gone again before anything else runs.
    prototype.toJSON = () => "planted";
    try {
      pending = store.create(userId, { data: { a: 1 } });
    } finally {
      delete prototype.toJSON;
    }
    const error = await refusal(() => pending);
    expect(error.field).toBe("data");
    expect(error.message).toMatch(/toJSON/);
    expect(await ctx.redis.exists(keyOf(userId))).toBe(0);
  });

  it("a device field behind a throwing getter is refused", async () => {
    const userId = freshUser();
    const device = {
      get name(): string {
        throw new Error("boom");
      },
    };
    const error = await refusal(() => store.create(userId, { device }));
    expect(error.field).toBe("device.name");
    expect(await ctx.redis.exists(keyOf(userId))).toBe(0);
  });
});

describe("plain values are stored exactly", () => {
  it("stores the JSON of what was passed, shared references and all", async () => {
    const userId = freshUser();
    const shared = { n: 1 };
    const data = { a: shared, b: [shared, shared], "2": "two", "1": "one", s: "é\u{1f600}\ud800", z: -0, u: undefined };
    const { session } = await store.create(userId, { data, userInfo: Object.assign(Object.create(null), { k: true }) });
    const [stored] = await ctx.redis.hvals(keyOf(userId)).then((values) => values.filter((v) => v.startsWith("2|")));
    expect(stored?.endsWith(`|[${JSON.stringify(data)}]`)).toBe(true);
    expect(await ctx.redis.hget(keyOf(userId), "#info")).toBe('{"k":true}');
    expect(session.data).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it("accepts 64 levels of nesting and refuses 65", async () => {
    await expect(store.create(freshUser(), { data: nested(64) as JsonValue })).resolves.toBeDefined();
    const error = await refusal(() => store.create(freshUser(), { data: nested(65) as JsonValue }));
    expect(error.message).toMatch(/deeper than 64/);
  });
});

describe("data: null", () => {
  it("round-trips as null through create, get, authenticate and list; undefined still means {}", async () => {
    const userId = freshUser();
    const created = await store.create(userId, { data: null });
    expect(created.session.data).toBeNull();
    expect((await store.get(userId, created.sessionId)).data).toBeNull();
    expect((await store.authenticate(created.token)).data).toBeNull();
    expect((await store.list(userId)).map((session) => session.data)).toEqual([null]);
    const without = await store.create(userId, {});
    expect((await store.get(userId, without.sessionId)).data).toEqual({});
  });
});
