/**
 * Hostile user ids against every SessionStore operation: each call ends in
 * a result or a SessionError with a documented code, the id is judged the
 * same way everywhere, an accepted id gets exactly one key whose Cluster
 * hash tag is the id itself (and an entry in its slot's activity shard), and
 * no id reaches another user's sessions. The sweep takes no user id from
 * its caller but reads them back from the shards and builds keys from them:
 * each id, accepted or planted there by a foreign writer, is swept as
 * itself and nobody else.
 */
import { activityShardKey, slotOf, userKey } from "@multisession/session-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostileUserId } from "./support/arbitraries.js";
import { type AttackRedis, dumpRedis, leaked, outcomeOf, startPrivateRedis } from "./support/private-redis.js";

let env: AttackRedis;
const secrets = new Set<string>();

beforeAll(async () => {
  env = await startPrivateRedis();
});
afterAll(() => env?.close());

/** The Cluster hash tag of a key: what Redis hashes to pick the slot. */
function hashTag(key: string): string {
  const open = key.indexOf("{");
  const close = key.indexOf("}", open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

async function keysUnder(prefix: string): Promise<string[]> {
  return env.redis.keys(`${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`);
}

describe("hostile user ids", () => {
  it("every operation answers a result or a typed error, judges the id the same way, and never reaches the victim", async () => {
    await fc.assert(
      fc.asyncProperty(hostileUserId, async (userId) => {
        fc.pre(String(userId) !== "victim");
        const { store, prefix } = env.newStore();
        const victim = await store.create("victim", { data: { mine: true } });
        secrets.add(victim.sessionId);
        const id = userId as string;
        const created = await outcomeOf(() => store.create(id, { data: { n: 1 } }));
        const valid = created.ok;
        if (created.ok) {
          secrets.add(created.value.sessionId);
          expect(created.value.session.userId).toBe(id);
          const key = userKey(prefix, id);
          expect(hashTag(key)).toBe(id);
          const shards = [activityShardKey(prefix, slotOf(id)), activityShardKey(prefix, slotOf("victim"))];
          expect((await keysUnder(prefix)).sort()).toEqual(
            [...new Set([key, userKey(prefix, "victim"), ...shards])].sort(),
          );
          const read = await store.authenticate(created.value.token);
          expect(read.userId).toBe(id);
          expect(read.handle).toBe(created.value.session.handle);
        } else {
          expect(created.code).toBe("ERR_INVALID_INPUT");
        }
        const secret = created.ok ? created.value.sessionId : victim.sessionId;
        const handle = created.ok ? created.value.session.handle : victim.session.handle;
        // The id as a shard member: an accepted one is there already; any other is planted, as a foreign writer could.
        const member = String(userId);
        const shard = activityShardKey(prefix, slotOf(member));
        const calls: Record<string, () => Promise<unknown>> = {
          get: () => store.get(id, secret),
          touch: () => store.touch(id, secret),
          list: () => store.list(id),
          setUserInfo: () => store.setUserInfo(id, secret, { x: 1 }),
          revokeVictim: () => store.revoke(id, victim.session.handle),
          removeVictim: () => store.remove(id, victim.sessionId),
          sweepSlot: async () => {
            await env.redis.zadd(shard, 0, member); // due now
            return store.sweepSlot(slotOf(member), 100);
          },
          deleteExpiredSession: () => store.deleteExpiredSession(id, handle.padEnd(43, "A")),
          rotate: () => store.rotate(id, secret),
          removeOthers: () => store.removeOthers(id, secret),
          revoke: () => store.revoke(id, handle),
          removeAll: () => store.removeAll(id),
        };
        for (const [name, call] of Object.entries(calls)) {
          const outcome = await outcomeOf(call);
          if (name === "sweepSlot") {
            // Exactly the one due member is claimed; nothing of a live user is deleted, and it goes back in its
            // shard at its earliest expiry; a planted member with no hash is not put back.
            expect(outcome, name).toEqual({
              ok: true,
              value: { usersCleaned: 1, sessionsDeleted: 0, hashesDeleted: 0 },
            });
            const score = await env.redis.zscore(shard, member);
            if (valid) expect(Number(score)).toBe(Math.min(...(await store.list(id)).map((s) => s.expiresAt)));
            else expect(score).toBeNull();
          } else if (!valid) expect(outcome, name).toEqual({ ok: false, code: "ERR_INVALID_INPUT" });
          else if (name === "revokeVictim" || name === "removeVictim")
            expect(outcome, name).toEqual({ ok: true, value: false });
          else if (outcome.ok && Array.isArray(outcome.value)) {
            for (const session of outcome.value) if ("userId" in session) expect(session.userId).toBe(id);
          } else if (outcome.ok && name === "rotate") secrets.add((outcome.value as { sessionId: string }).sessionId);
        }
        // Whatever the hostile id did, the victim is still logged in, alone, with its own data.
        const victimNow = await store.authenticate(victim.token);
        expect(victimNow.data).toEqual({ mine: true });
        expect((await store.list("victim")).map((s) => s.handle)).toEqual([victim.session.handle]);
      }),
      { numRuns: 150 },
    );
  });

  it("two different accepted ids never share a key or see each other's sessions", async () => {
    const lookalike = fc.constantFrom<(id: string) => string>(
      (id) => id.normalize("NFD"),
      (id) => id.normalize("NFC"),
      (id) => id.normalize("NFKC"),
      (id) => id.toUpperCase(),
      (id) => `${id} `,
      (id) => `${id}\u200b`,
      (id) => `${id}\ufeff`,
      (id) => id.slice(0, -1),
      (id) => `${id}x`,
      (id) => id.replace(/e/g, "é"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
        lookalike,
        async (first, transform) => {
          const second = transform(first);
          fc.pre(second !== first);
          const { store, prefix } = env.newStore();
          const a = await outcomeOf(() => store.create(first));
          const b = await outcomeOf(() => store.create(second));
          fc.pre(a.ok && b.ok);
          if (!a.ok || !b.ok) return;
          secrets.add(a.value.sessionId).add(b.value.sessionId);
          expect(userKey(prefix, first)).not.toBe(userKey(prefix, second));
          expect((await store.list(first)).map((s) => s.handle)).toEqual([a.value.session.handle]);
          expect((await store.list(second)).map((s) => s.handle)).toEqual([b.value.session.handle]);
          expect(await outcomeOf(() => store.get(second, a.value.sessionId))).toEqual({
            ok: false,
            code: "ERR_SESSION_NOT_FOUND",
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it("after it all, no secret is anywhere in Redis", async () => {
    expect(secrets.size).toBeGreaterThan(100);
    const { keys, text } = await dumpRedis(env.redis);
    expect(keys).toBeGreaterThan(100);
    expect(leaked(text, secrets)).toEqual([]);
  });
});
