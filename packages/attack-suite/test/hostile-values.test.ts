/**
 * Hostile `data`, user info and device values: each is refused with
 * InvalidInputError or stored as the plain JSON it is, within the size and
 * depth limits, and read back exactly so. Includes values that only pretend
 * to be plain JSON (toJSON, getters that change, hidden properties, proxies).
 */
import { InvalidInputError } from "@multisession/session-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyString, hostileValue } from "./support/arbitraries.js";
import { type AttackRedis, dumpRedis, leaked, outcomeOf, startPrivateRedis } from "./support/private-redis.js";

const MAX_DATA_BYTES = 4_096;
const MAX_DEPTH = 64;

let env: AttackRedis;
let store: ReturnType<AttackRedis["newStore"]>["store"];
const secrets = new Set<string>();

beforeAll(async () => {
  env = await startPrivateRedis();
  store = env.newStore({ maxDataBytes: MAX_DATA_BYTES, maxSessionsPerUser: 3 }).store;
});
afterAll(() => env?.close());

function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Object.values(value as object);
  return 1 + (children.length === 0 ? 0 : Math.max(...children.map(depthOf)));
}

/** What a stored value must look like, whatever was passed in: plain JSON within the limits. */
function expectPlainJsonWithinLimits(stored: unknown): void {
  const json = JSON.stringify(stored);
  expect(Buffer.byteLength(json, "utf8")).toBeLessThanOrEqual(MAX_DATA_BYTES);
  expect(depthOf(stored)).toBeLessThanOrEqual(MAX_DEPTH);
  expect(JSON.parse(json)).toEqual(stored);
}

/** Values built to slip past a validator that looks at them differently from JSON.stringify. */
function pretenders(): Record<string, () => unknown> {
  let reads = 0;
  return {
    ownToJSON: () => ({ toJSON: () => ({ deep: "x".repeat(10) }) }),
    toJSONReturningFunction: () => ({ toJSON: () => () => 1 }),
    toJSONThrowing: () => ({
      toJSON: () => {
        throw new TypeError("boom");
      },
    }),
    hiddenToJSON: () => {
      const value = {};
      Object.defineProperty(value, "toJSON", { value: () => "x".repeat(MAX_DATA_BYTES * 4), enumerable: false });
      return value;
    },
    deepViaToJSON: () => {
      let nested: unknown = 1;
      for (let i = 0; i < 200; i++) nested = [nested];
      return { toJSON: () => nested };
    },
    changingGetter: () => {
      reads = 0;
      return {
        get v() {
          reads++;
          return reads > 1 ? () => 1 : "fine";
        },
      };
    },
    throwingGetter: () => ({
      get v() {
        throw new TypeError("getter");
      },
    }),
    nonEnumerable: () => {
      const value: Record<string, unknown> = { a: 1 };
      Object.defineProperty(value, "hidden", { value: 1n, enumerable: false });
      return value;
    },
    proxy: () =>
      new Proxy(
        {},
        {
          ownKeys: () => {
            throw new TypeError("ownKeys");
          },
        },
      ),
    arrayWithToJSON: () => Object.assign([1, 2], { toJSON: () => ({ nested: new Map() }) }),
    symbolKey: () => ({ [Symbol("s")]: 1, a: 2 }),
  };
}

describe("hostile values", () => {
  it("data, user info and device: refused with InvalidInputError, or stored as plain JSON within the limits", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileValue,
        hostileValue,
        fc.dictionary(fc.constantFrom("name", "platform", "userAgent", "ip", "extra", "__proto__"), anyString),
        async (data, userInfo, device) => {
          const created = await outcomeOf(() =>
            store.create("values", { data: data as never, userInfo: userInfo as never, device: device as never }),
          );
          if (!created.ok) {
            expect(created.code).toBe("ERR_INVALID_INPUT");
            return;
          }
          secrets.add(created.value.sessionId);
          const read = await store.authenticate(created.value.token);
          expectPlainJsonWithinLimits(read.data);
          expectPlainJsonWithinLimits(read.userInfo);
          expect(read.data).toEqual(data === undefined ? {} : JSON.parse(JSON.stringify(data)));
          expect(read.device).toEqual(created.value.session.device);
          const info = await outcomeOf(() => store.setUserInfo("values", created.value.sessionId, data as never));
          if (info.ok) expect((await store.authenticate(created.value.token)).userInfo).toEqual(read.data);
          else expect(info.code).toBe("ERR_INVALID_INPUT");
        },
      ),
      { numRuns: 200 },
    );
  });

  it("values that only pretend to be plain JSON are refused with InvalidInputError or stored as validated", async () => {
    const { token, sessionId } = await store.create("pretenders");
    secrets.add(sessionId);
    for (const [name, make] of Object.entries(pretenders())) {
      for (const [call, run] of Object.entries({
        // Created for another user: the session limit must not evict the one whose user info is read below.
        create: () => store.create("pretenders-created", { data: make() as never }),
        createUserInfo: () => store.create("pretenders-created", { userInfo: make() as never }),
        setUserInfo: () => store.setUserInfo("pretenders", sessionId, make() as never),
      })) {
        let outcome: unknown;
        try {
          outcome = await run();
        } catch (error) {
          expect(error, `${name} via ${call}`).toBeInstanceOf(InvalidInputError);
          continue;
        }
        if (outcome && typeof outcome === "object" && "sessionId" in outcome) {
          const created = outcome as { sessionId: string; token: string };
          secrets.add(created.sessionId);
          const stored = await store.authenticate(created.token);
          expectPlainJsonWithinLimits(stored.data);
          expectPlainJsonWithinLimits(stored.userInfo);
        }
        const read = await store.authenticate(token);
        expectPlainJsonWithinLimits(read.userInfo);
      }
    }
  });

  it("data: null round-trips as null", async () => {
    const { token, sessionId } = await store.create("nulls", { data: null });
    secrets.add(sessionId);
    expect((await store.authenticate(token)).data).toBeNull();
  });

  it("no secret is anywhere in Redis afterwards", async () => {
    const { text } = await dumpRedis(env.redis);
    expect(secrets.size).toBeGreaterThanOrEqual(5);
    expect(leaked(text, secrets)).toEqual([]);
  });
});
