/**
 * Races with sessions expiring mid-run: concurrent clients on two store
 * instances (two API servers, two connections) create, read, list, revoke,
 * remove, log out others and everyone, set user info and rotate on a few
 * users, while the sweep runs, with idle and absolute timeouts of a few
 * hundred ms. A watcher reads Redis directly throughout, and again at the
 * end:
 * - no user ever holds more than maxSessionsPerUser live sessions;
 * - every user hash has a TTL;
 * - no logout is undone: a secret whose remove, revoke, removeOthers,
 *   removeAll or rotation returned is never served by a call started after;
 * - no expired session is served, nothing is served to the wrong user, and
 *   no two live records share a handle;
 * - once everything has expired, a sweep leaves nothing behind.
 */
import { decodeRecord, type Session, type SessionStore, userKey } from "@multisession/session-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackRedis, outcomeOf, sleep, startPrivateRedis } from "./support/private-redis.js";
import { sweepSlotsOf } from "./support/sweep.js";

const USERS = ["ana", "ben", "cy"];
const MAX_SESSIONS = 3;
const OPTIONS = {
  idleTimeoutMs: 250,
  absoluteTimeoutMs: 700,
  touchIntervalMs: 40,
  maxSessionsPerUser: MAX_SESSIONS,
  keyGraceMs: 100,
};
/** How far this process's clock and Redis's may disagree when judging "expired" (same host). */
const CLOCK_SLACK_MS = 30;

const OPS = [
  "create",
  "get",
  "authenticate",
  "list",
  "revoke",
  "remove",
  "removeOthers",
  "removeAll",
  "setUserInfo",
  "rotate",
] as const;
type Op = (typeof OPS)[number];
// Logging out everywhere is rarer than the rest, so users keep a few sessions between two.
const op = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Op>("removeAll") },
  { weight: 12, arbitrary: fc.constantFrom(...OPS.filter((name) => name !== "removeAll")) },
);
const step = fc.record({ op, user: fc.constantFrom(...USERS), pick: fc.nat(), pause: fc.nat(15) });

interface Held {
  userId: string;
  secret: string;
  token: string;
  handle: string;
  /** performance.now() when the call that obtained it returned. */
  obtainedAt: number;
}

/** Outcomes over all runs (`op:ok`, `op:ERR_...`), to show the runs did race what they claim to. */
const seen = new Map<string, number>();
const count = (what: string, n = 1) => seen.set(what, (seen.get(what) ?? 0) + n);

let env: AttackRedis;
beforeAll(async () => {
  env = await startPrivateRedis();
});
afterAll(() => env?.close());

describe("races with sessions expiring mid-run", () => {
  it("limit, TTLs and logouts hold under concurrent clients, rotations and the sweep", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(step, { minLength: 30, maxLength: 60 }), { minLength: 8, maxLength: 8 }),
        async (scripts) => {
          const { store, prefix } = env.newStore(OPTIONS);
          const other = env.newStore({ ...OPTIONS, prefix, redis: env.connection() }).store;
          const held: Held[] = [];
          /** Secret → when (performance.now()) a call that kills it returned. */
          const deadSince = new Map<string, number>();
          const handleDeadSince = new Map<string, number>();
          const violations: string[] = [];
          const kill = (secret: string, at: number) => {
            if (!deadSince.has(secret)) deadSince.set(secret, at);
          };
          const checkServed = (
            session: Session,
            userId: string,
            secret: string,
            startedAt: number,
            wallStart: number,
          ) => {
            const killed = deadSince.get(secret);
            const owner = held.find((h) => h.secret === secret);
            const handleKilled = owner ? handleDeadSince.get(owner.handle) : undefined;
            if (killed !== undefined && killed < startedAt)
              violations.push(`served a secret logged out before: ${session.handle}`);
            if (handleKilled !== undefined && handleKilled < startedAt)
              violations.push(`served a revoked handle ${session.handle}`);
            if (session.userId !== userId) violations.push(`served ${session.userId}'s session to ${userId}`);
            if (owner && owner.handle !== session.handle)
              violations.push(`served handle ${session.handle} for ${owner.handle}`);
            if (session.expiresAt < wallStart - CLOCK_SLACK_MS)
              violations.push(`served an expired session ${session.handle}`);
          };

          const client = async (script: (typeof scripts)[number], index: number) => {
            const s: SessionStore = index % 2 === 0 ? store : other;
            for (const { op, user, pick, pause } of script) {
              const mine = held.filter((h) => h.userId === user);
              const target = mine.length > 0 ? mine[pick % mine.length] : undefined;
              const startedAt = performance.now();
              const wallStart = Date.now();
              const outcome = await outcomeOf<unknown>(() => run(s, op, user, target, pick));
              const endedAt = performance.now();
              count(`${op}:${outcome.ok ? (outcome.value === false ? "false" : "ok") : outcome.code}`);
              if (outcome.ok) {
                const value = outcome.value as Record<string, unknown> | Session[] | boolean | number | undefined;
                if (op === "create" || op === "rotate") {
                  const created = value as unknown as { sessionId: string; token: string; session: Session };
                  held.push({
                    userId: user,
                    secret: created.sessionId,
                    token: created.token,
                    handle: created.session.handle,
                    obtainedAt: endedAt,
                  });
                  if (op === "rotate" && target) kill(target.secret, endedAt);
                }
                if ((op === "get" || op === "authenticate") && target)
                  checkServed(value as unknown as Session, user, target.secret, startedAt, wallStart);
                if (op === "list")
                  for (const session of value as Session[])
                    if (session.userId !== user) violations.push(`list of ${user} held ${session.userId}`);
                if (op === "remove" && target) kill(target.secret, endedAt);
                if (op === "revoke" && target && value === true && !handleDeadSince.has(target.handle))
                  handleDeadSince.set(target.handle, endedAt);
                if (op === "removeAll") for (const h of mine) if (h.obtainedAt < startedAt) kill(h.secret, endedAt);
                if (op === "removeOthers" && target) {
                  for (const h of mine)
                    if (h.handle !== target.handle && h.obtainedAt < startedAt) kill(h.secret, endedAt);
                }
              } else if (!["ERR_SESSION_NOT_FOUND", "ERR_SESSION_EXPIRED"].includes(outcome.code)) {
                violations.push(`${op}: unexpected ${outcome.code}`);
              }
              if (pause > 10) await sleep(pause * 10);
            }
          };

          let running = true;
          const sweeper = (async () => {
            while (running) {
              const result = await outcomeOf(() => sweepSlotsOf(store, USERS, 20));
              if (!result.ok) violations.push(`sweep: ${result.code}`);
              else count("sweep:sessionsDeleted", result.value.sessionsDeleted);
              await sleep(15);
            }
          })();
          const watcher = (async () => {
            while (running) {
              violations.push(...(await readInvariants(env, prefix)));
              await sleep(10);
            }
          })();
          await Promise.all(scripts.map(client));
          running = false;
          await Promise.all([sweeper, watcher]);

          // What Redis holds now: the same invariants, and no dead secret stored.
          violations.push(...(await readInvariants(env, prefix)));
          for (const [secret] of deadSince) {
            const h = held.find((x) => x.secret === secret) as Held;
            const now = await outcomeOf(() => store.authenticate(h.token));
            if (now.ok) violations.push(`a logged-out secret authenticates again: ${h.handle}`);
          }
          for (const [handle] of handleDeadSince) {
            for (const h of held.filter((x) => x.handle === handle)) {
              if ((await outcomeOf(() => store.get(h.userId, h.secret))).ok)
                violations.push(`a revoked handle is served again: ${handle}`);
            }
          }
          expect(violations).toEqual([]);

          // Once every session is past its absolute expiry, a sweep leaves nothing: no dangling hash.
          await sleep(OPTIONS.absoluteTimeoutMs + 50);
          for (let i = 0; i < 10 && (await sweepSlotsOf(store, USERS)).usersCleaned > 0; i++) {}
          for (const userId of USERS) {
            const fields = await env.redis.hgetall(userKey(prefix, userId));
            const records = Object.entries(fields).filter(([field]) => field !== "#info");
            expect(records, userId).toEqual([]);
          }
        },
      ),
      { numRuns: 4, endOnFailure: true },
    );
    for (const what of [
      "get:ok",
      "authenticate:ok",
      "rotate:ok",
      "revoke:ok",
      "removeOthers:ok",
      "removeAll:ok",
      "setUserInfo:ok",
    ]) {
      expect(seen.get(what), what).toBeGreaterThan(0);
    }
    // Sessions did expire mid-run: reads found them expired, or the sweep got to them first and deleted them.
    const expiredReads =
      (seen.get("get:ERR_SESSION_EXPIRED") ?? 0) + (seen.get("authenticate:ERR_SESSION_EXPIRED") ?? 0);
    expect(expiredReads + (seen.get("sweep:sessionsDeleted") ?? 0)).toBeGreaterThan(0);
  });
});

async function run(
  store: SessionStore,
  op: Op,
  user: string,
  target: Held | undefined,
  pick: number,
): Promise<unknown> {
  const secret = target?.secret ?? "A".repeat(43);
  switch (op) {
    case "create":
      return store.create(user, { data: { pick }, device: { name: `d${pick % 10}` } });
    case "get":
      return store.get(user, secret);
    case "authenticate":
      return store.authenticate(target?.token ?? `${Buffer.from(user).toString("base64url")}.${secret}`);
    case "list":
      return store.list(user);
    case "revoke":
      return store.revoke(user, target?.handle ?? "A".repeat(16));
    case "remove":
      return store.remove(user, secret);
    case "removeOthers":
      return store.removeOthers(user, secret);
    case "removeAll":
      return store.removeAll(user);
    case "setUserInfo":
      return store.setUserInfo(user, secret, { pick });
    case "rotate":
      return store.rotate(user, secret);
  }
}

/**
 * Reads each user's hash, TTL and Redis's clock in one MULTI, so a script
 * running meanwhile is seen wholly before or after: the live sessions
 * (decoded as session-core decodes them) are at most MAX_SESSIONS, have
 * distinct handles, and the hash has a TTL.
 */
async function readInvariants(env: AttackRedis, prefix: string): Promise<string[]> {
  const violations: string[] = [];
  for (const userId of USERS) {
    const key = userKey(prefix, userId);
    const replies = (await env.redis.multi().hgetall(key).pttl(key).time().exec()) ?? [];
    const [fields, ttl, time] = replies.map(([, value]) => value) as [Record<string, string>, number, [string, string]];
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    if (Object.keys(fields).length === 0) continue;
    if (ttl < 0) violations.push(`${userId}: hash without a TTL (${ttl})`);
    const live = Object.entries(fields)
      .filter(([field]) => field !== "#info")
      .map(([field, value]) => decodeRecord(field, userId, value, null))
      .filter((session) => session !== null && session.expiresAt > now) as Session[];
    if (live.length > MAX_SESSIONS) violations.push(`${userId}: ${live.length} live sessions`);
    const handles = new Set(live.map((session) => session.handle));
    if (handles.size !== live.length) violations.push(`${userId}: two live records share a handle`);
  }
  return violations;
}
