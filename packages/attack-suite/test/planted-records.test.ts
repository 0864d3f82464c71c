/**
 * Records planted straight into Redis (what a foreign writer, a bad
 * migration or someone with write access to Redis could leave): arbitrary
 * strings as session fields and as `#info`, and keys of other types where a
 * user's hash belongs. Every operation must answer a result or a typed
 * error, and every operation must agree with session-core's one definition
 * of a valid record (`decodeRecord`): what does not decode is no session for
 * any of them, what decodes and is live is that session for all of them.
 */
import { randomBytes } from "node:crypto";
import {
  activityShardKey,
  decodeHeader,
  decodeRecord,
  encodeRecord,
  sessionKeyOf,
  slotOf,
  userKey,
} from "@multisession/session-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyString } from "./support/arbitraries.js";
import { type AttackRedis, dumpRedis, leaked, outcomeOf, startPrivateRedis } from "./support/private-redis.js";
import { sweepSlotsOf } from "./support/sweep.js";

let env: AttackRedis;
const secrets = new Set<string>();
const USER = "planted";
/** Planted times stay this far from now, so Redis and this process agree on live or expired. */
const MARGIN_MS = 5_000;

beforeAll(async () => {
  env = await startPrivateRedis();
});
afterAll(() => env?.close());

const b36 = (n: number) => Math.max(0, Math.trunc(n)).toString(36);
const offset = fc.oneof(fc.integer({ min: -3_000_000, max: 3_000_000 }), fc.constantFrom(-86_400_000, 86_400_000));
const time = offset.map((o) => Date.now() + (o >= 0 ? o + MARGIN_MS : o - MARGIN_MS));

/** Values for a session field: junk, near-valid headers with broken parts, and valid records live or expired. */
const plantedValue = fc.oneof(
  anyString,
  fc
    .tuple(time, time, anyString)
    .map(
      ([created, expires, body]) => `2|${b36(created)}|0|${b36(expires - created)}|${b36(expires - created)}|${body}`,
    ),
  fc
    .tuple(
      time,
      time,
      fc.constantFrom("[", "[]", "{}", "null", "[{},1]", '[{},"n",2]', '[{},"a","b","c","d","e"]', "[1]"),
    )
    .map(
      ([created, expires, body]) => `2|${b36(created)}|0|${b36(expires - created)}|${b36(expires - created)}|${body}`,
    ),
  fc
    .tuple(time, fc.constantFrom("1".repeat(16), "z".repeat(15), "Z", "-1", " 1", "1.5", "", "0x1"))
    .map(([created, broken]) => `2|${b36(created)}|0|${broken}|${broken}|[{}]`),
  fc
    .tuple(time, time, fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 20 }))
    .map(([created, expires, data, name]) =>
      encodeRecord(
        {
          createdAt: Math.min(created, expires),
          lastSeenAt: Math.min(created, expires),
          expiresAt: expires,
          absoluteExpiresAt: expires,
        },
        data,
        { name },
      ),
    ),
);

const OPERATIONS = [
  "get",
  "authenticate",
  "touch",
  "list",
  "revoke",
  "remove",
  "removeOthers",
  "setUserInfo",
  "rotate",
  "removeAll",
  "sweepSlot",
  "sweep",
] as const;

const newSecret = () => randomBytes(32).toString("base64url");
const tokenOf = (userId: string, secret: string) => `${Buffer.from(userId).toString("base64url")}.${secret}`;

describe("planted records", () => {
  it("every operation agrees with decodeRecord on a planted session field, and never acts for a dead one", async () => {
    await fc.assert(
      fc.asyncProperty(
        plantedValue,
        fc.option(anyString, { nil: undefined }),
        fc.constantFrom(...OPERATIONS),
        async (value, info, operation) => {
          const { store, prefix } = env.newStore({ touchIntervalMs: 60_000 });
          const real = await store.create(USER, { data: { real: true } });
          const neighbour = await store.create("neighbour");
          secrets.add(real.sessionId).add(neighbour.sessionId);
          const secret = newSecret();
          secrets.add(secret);
          const field = sessionKeyOf(secret);
          const key = userKey(prefix, USER);
          const shard = activityShardKey(prefix, slotOf(USER));
          await env.redis.hset(key, field, value);
          if (info !== undefined) await env.redis.hset(key, "#info", info);
          const infoBefore = await env.redis.hget(key, "#info");
          const judged = decodeRecord(field, USER, value, null);
          const now = Date.now();
          fc.pre(!judged || Math.abs(judged.expiresAt - now) > MARGIN_MS / 2);
          // The sweep judges by the header alone: it keeps a valid header that says live, body and all.
          const stated = decodeHeader(value)?.expiresAt ?? null;
          fc.pre(stated === null || Math.abs(stated - now) > MARGIN_MS / 2);
          const keptBySweep = stated !== null && stated > now;
          const live = judged !== null && judged.expiresAt > now;
          const handle = field.slice(0, 16);
          const dead = live ? null : judged ? "ERR_SESSION_EXPIRED" : "ERR_SESSION_NOT_FOUND";

          const run = {
            get: () => store.get(USER, secret),
            authenticate: () => store.authenticate(tokenOf(USER, secret)),
            touch: () => store.touch(USER, secret),
            list: () => store.list(USER),
            revoke: () => store.revoke(USER, handle),
            remove: () => store.remove(USER, secret),
            removeOthers: () => store.removeOthers(USER, secret),
            setUserInfo: () => store.setUserInfo(USER, secret, { set: true }),
            rotate: () => store.rotate(USER, secret),
            removeAll: () => store.removeAll(USER),
            // The user made due in its shard, and its slot swept: it is cleaned for sure.
            sweepSlot: async () => {
              await env.redis.zadd(shard, 0, USER);
              return store.sweepSlot(slotOf(USER), 100);
            },
            // A sweep as the worker's: due slots found, then swept (the user is due only if its score says so).
            sweep: () => sweepSlotsOf(store, [USER, "neighbour"]),
          }[operation];
          const outcome = await outcomeOf(run as () => Promise<unknown>);
          const context = `${operation} on ${JSON.stringify(value).slice(0, 120)}`;
          if (outcome.ok && operation === "rotate") secrets.add((outcome.value as { sessionId: string }).sessionId);

          switch (operation) {
            case "get":
            case "authenticate":
            case "touch":
            case "rotate": {
              if (!live) expect(outcome, context).toEqual({ ok: false, code: dead });
              else {
                expect(outcome.ok, context).toBe(true);
                const session = (
                  operation === "rotate"
                    ? (outcome as { value: { session: unknown } }).value.session
                    : (outcome as { value: unknown }).value
                ) as { userId: string; handle: string; data: unknown };
                expect(session.userId).toBe(USER);
                expect(session.handle).toBe(handle);
                expect(session.data).toEqual(judged?.data);
              }
              break;
            }
            case "list": {
              expect(outcome.ok, context).toBe(true);
              const handles = (outcome as { value: { handle: string; userId: string }[] }).value.map((s) => s.handle);
              expect(handles.includes(handle), context).toBe(live);
              expect(handles.includes(real.session.handle), context).toBe(true);
              break;
            }
            case "revoke":
              expect(outcome, context).toEqual({ ok: true, value: live });
              break;
            case "removeOthers":
            case "setUserInfo": {
              if (live) expect(outcome.ok, context).toBe(true);
              else {
                expect(outcome, context).toEqual({ ok: false, code: dead });
                // A dead record acts for nobody: the real session stays, the user info is untouched.
                expect(await env.redis.hexists(key, sessionKeyOf(real.sessionId)), context).toBe(1);
                expect(await env.redis.hget(key, "#info"), context).toBe(infoBefore);
              }
              break;
            }
            case "removeAll":
              expect(outcome, context).toEqual({ ok: true, value: live ? 2 : 1 });
              break;
            case "sweepSlot":
            case "sweep":
              expect(outcome.ok, context).toBe(true);
              // A live record stays after a cleaning; so does a corrupt one whose stated expiry is ahead (the
              // reads delete it, and it is never served: the other operations check that); any other is gone.
              if (live) expect(keptBySweep, context).toBe(true);
              if (operation === "sweepSlot" || (await env.redis.zscore(shard, USER)) === null) {
                expect(await env.redis.hexists(key, field), context).toBe(keptBySweep ? 1 : 0);
              }
              if (operation === "sweepSlot") {
                // The user goes back in its shard at the earliest expiry it kept, the planted record's included.
                const earliest = Math.min(
                  real.session.expiresAt,
                  keptBySweep ? (stated as number) : Number.POSITIVE_INFINITY,
                );
                expect(Number(await env.redis.zscore(shard, USER)), context).toBe(earliest);
              }
              break;
            default:
              expect(outcome.ok || outcome.code !== "", context).toBe(true);
          }
          // The neighbour never notices, and the user's hash keeps a TTL whatever was planted.
          expect((await store.authenticate(neighbour.token)).userId).toBe("neighbour");
          if (await env.redis.exists(key)) expect(await env.redis.pttl(key), context).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("a planted #info reads as JSON or as null, never as an error, in every session's view", async () => {
    await fc.assert(
      fc.asyncProperty(anyString, async (info) => {
        const { store, prefix } = env.newStore();
        const { token, sessionId } = await store.create(USER);
        secrets.add(sessionId);
        await env.redis.hset(userKey(prefix, USER), "#info", info);
        let expected: unknown = null;
        try {
          expected = JSON.parse(info);
        } catch {}
        expect((await store.authenticate(token)).userInfo).toEqual(expected);
        expect((await store.list(USER))[0]?.userInfo).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it("a key of another type where a user's hash belongs gives typed errors, and a sweep keeps every other due user", async () => {
    const types: Record<string, (redis: AttackRedis["redis"], key: string) => Promise<unknown>> = {
      string: (redis, key) => redis.set(key, "x"),
      list: (redis, key) => redis.rpush(key, "x"),
      set: (redis, key) => redis.sadd(key, "x"),
      zset: (redis, key) => redis.zadd(key, 1, "x"),
      stream: (redis, key) => redis.xadd(key, "*", "x", "1"),
    };
    for (const [type, plant] of Object.entries(types)) {
      const { store, prefix } = env.newStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 60_000, touchIntervalMs: 0 });
      // Users due in their activity shards: live ones (kept), expired ones (cleaned) and the foreign key among them.
      const expiring = await Promise.all(["b", "d"].map((u) => store.create(`gone-${u}`)));
      await plant(env.redis, userKey(prefix, "foreign"));
      await new Promise((resolve) => setTimeout(resolve, 350));
      const live = await Promise.all(["a", "c", "e"].map((u) => store.create(`live-${u}`, { data: {} })));
      for (const created of [...live, ...expiring]) secrets.add(created.sessionId);
      const due = Date.now() - 1;
      const dueUsers = ["live-a", "gone-b", "foreign", "live-c", "gone-d", "live-e"];
      for (const userId of dueUsers) await env.redis.zadd(activityShardKey(prefix, slotOf(userId)), due, userId);
      const calls: (() => Promise<unknown>)[] = [
        () => store.create("foreign"),
        () => store.get("foreign", newSecret()),
        () => store.list("foreign"),
        () => store.revoke("foreign", "A".repeat(16)),
        () => store.removeAll("foreign"),
        () => store.deleteExpiredSession("foreign", "A".repeat(43)),
        () => store.rotate("foreign", newSecret()),
      ];
      for (const call of calls) {
        await outcomeOf(call); // throws on anything untyped
      }
      // The sweep claims every due user, the foreign one too: it is reported and skipped, the others are cleaned.
      const sweep = await outcomeOf(() => sweepSlotsOf(store, dueUsers));
      expect(sweep.ok, type).toBe(true);
      expect(sweep.ok && sweep.value.usersCleaned, type).toBe(dueUsers.length);
      for (const userId of ["live-a", "live-c", "live-e"]) {
        expect(
          await env.redis.zscore(activityShardKey(prefix, slotOf(userId)), userId),
          `${type}: ${userId}`,
        ).not.toBeNull();
      }
      for (const userId of ["gone-b", "gone-d"]) expect(await env.redis.exists(userKey(prefix, userId)), type).toBe(0);
      expect(await env.redis.type(userKey(prefix, "foreign")), type).toBe(type);
    }
  });

  it("no secret is anywhere in Redis afterwards", async () => {
    const { text } = await dumpRedis(env.redis);
    expect(secrets.size).toBeGreaterThan(100);
    expect(leaked(text, secrets)).toEqual([]);
  });
});
