/**
 * The invariant checks themselves, on a private redis-server: each one
 * passes on what the store writes and reports the damage it exists to find
 * when that damage is planted straight in Redis. A check that could not
 * fail would make every scenario's "0 violations" worthless.
 */
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { activityShardKey, SLOT_COUNT, sessionKeyOf, slotOf, userKey } from "@multisession/session-core";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  everyHashInActivitySet,
  everyHashTtlCoversLatestExpiry,
  noAcknowledgedLiveSessionLost,
  noAcknowledgedRemovalUndone,
  noDanglingData,
  noUserOverLimit,
  readSnapshot,
} from "../src/invariants.js";
import { Ledger } from "../src/ledger.js";
import { judge } from "../src/scenarios/lost-reply.js";
import { connectDirect, connectLibrary, type LibraryClient, namespaceFor, sleep } from "../src/stack.js";

let server: RedisServer;
let direct: Redis;
const clients: LibraryClient[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  direct = connectDirect(server.url);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  direct?.disconnect();
  await server?.stop();
});

/** A namespace of its own with one user holding two acknowledged sessions, and one acknowledged removal. */
async function twoSessions() {
  const namespace = namespaceFor("invariants");
  const client = connectLibrary(server.url, namespace);
  clients.push(client);
  const ledger = new Ledger();
  const userId = "alice";
  const created = [];
  for (let i = 0; i < 3; i++) {
    const session = await client.store.create(userId);
    ledger.created(userId, sessionKeyOf(session.sessionId), session.session.expiresAt);
    created.push(session);
  }
  const [first, second, removed] = created as [(typeof created)[0], (typeof created)[0], (typeof created)[0]];
  await client.store.remove(userId, removed.sessionId);
  ledger.removed(userId, sessionKeyOf(removed.sessionId));
  const snapshot = () => readSnapshot(direct, namespace.sessionPrefix, ledger.users());
  const key = userKey(namespace.sessionPrefix, userId);
  return { namespace, client, ledger, userId, key, first, second, removed, snapshot };
}

describe("the invariants", () => {
  it("hold on what the store writes", async () => {
    const { ledger, snapshot } = await twoSessions();
    const read = await snapshot();
    expect(noAcknowledgedLiveSessionLost(read, ledger)).toEqual([]);
    expect(noAcknowledgedRemovalUndone(read, ledger)).toEqual([]);
    expect(everyHashTtlCoversLatestExpiry(read)).toEqual([]);
    expect(everyHashInActivitySet(read)).toEqual([]);
    expect(noUserOverLimit(read, 2)).toEqual([]);
    expect(noDanglingData(read)).toEqual([]);
  });

  it("report an acknowledged session that is gone", async () => {
    const { ledger, key, first, snapshot } = await twoSessions();
    await direct.hdel(key, sessionKeyOf(first.sessionId));
    expect(noAcknowledgedLiveSessionLost(await snapshot(), ledger)).toHaveLength(1);
  });

  it("report an acknowledged removal that came back", async () => {
    const { ledger, key, first, removed, snapshot } = await twoSessions();
    const record = (await direct.hget(key, sessionKeyOf(first.sessionId))) as string;
    await direct.hset(key, sessionKeyOf(removed.sessionId), record);
    expect(noAcknowledgedRemovalUndone(await snapshot(), ledger)).toHaveLength(1);
  });

  it("report a hash without a TTL, or with one shorter than its latest session", async () => {
    const { key, snapshot } = await twoSessions();
    await direct.persist(key);
    expect(everyHashTtlCoversLatestExpiry(await snapshot())).toHaveLength(1);
    await direct.pexpire(key, 60_000);
    expect(everyHashTtlCoversLatestExpiry(await snapshot())).toHaveLength(1);
  });

  it("report a hash missing from its activity shard, scored after its earliest expiry, or only in another shard", async () => {
    const { namespace, userId, snapshot } = await twoSessions();
    const activity = activityShardKey(namespace.sessionPrefix, slotOf(userId));
    const score = Number(await direct.zscore(activity, userId));
    await direct.zadd(activity, score + 60_000, userId);
    expect(everyHashInActivitySet(await snapshot())).toHaveLength(1);
    await direct.zrem(activity, userId);
    expect(everyHashInActivitySet(await snapshot())).toHaveLength(1);
    // Scored in time, but in a shard a sweep of the user's slot never reads.
    const elsewhere = activityShardKey(namespace.sessionPrefix, (slotOf(userId) + 1) % SLOT_COUNT);
    await direct.zadd(elsewhere, score, userId);
    const read = await snapshot();
    expect(everyHashInActivitySet(read)).toHaveLength(1);
    expect(noDanglingData(read).map((violation) => violation.detail)).toEqual([
      `an activity entry in another slot's shard (${elsewhere})`,
    ]);
  });

  it("report a user over the limit", async () => {
    const { snapshot } = await twoSessions();
    expect(noUserOverLimit(await snapshot(), 1)).toHaveLength(1);
  });

  it("report expired records and due activity entries left behind", async () => {
    const namespace = namespaceFor("invariants");
    const client = connectLibrary(server.url, namespace, {
      idleTimeoutMs: 50,
      absoluteTimeoutMs: 50,
      touchIntervalMs: 0,
    });
    clients.push(client);
    await client.store.create("bob");
    await sleep(100);
    const violations = noDanglingData(await readSnapshot(direct, namespace.sessionPrefix));
    expect(violations.map((violation) => violation.detail).sort()).toEqual([
      "1 expired records left",
      "a due activity entry left",
      "a hash without a live session",
    ]);
  });
});

describe("lost-reply's judge", () => {
  const a = { sessionId: "a" };
  const b = { sessionId: "b" };
  const truth = (fields: string[]) => ({ fields, has: (id: string) => fields.includes(id), a, b });

  it("calls a logout that says 'not there' for a session it removed a wrong answer", () => {
    expect(judge("remove", false, undefined, truth(["b"]))).toBe("wrong answer");
    expect(judge("remove", true, undefined, truth(["b"]))).toBe("true outcome");
    expect(judge("removeAll", 0, undefined, truth([]))).toBe("wrong answer");
    expect(judge("removeAll", 2, undefined, truth([]))).toBe("true outcome");
  });

  it("calls a failed create whose session is stored a wrong answer", () => {
    expect(judge("create", undefined, new Error("Connection is closed."), truth(["a", "b", "c"]))).toBe("wrong answer");
    expect(judge("create", undefined, new Error("Connection is closed."), truth(["a", "b"]))).toBe("true outcome");
  });
});
