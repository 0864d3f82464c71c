/**
 * A full Redis (`maxmemory` with `noeviction`, as production runs it)
 * degrades gracefully: what would grow memory (create, setUserInfo, a read's
 * renewal) is refused as a whole, with a typed error and nothing written;
 * existing sessions keep authenticating, unrenewed; logouts and cleanup,
 * which free memory, keep working; and everything resumes once memory is
 * freed.
 *
 * The tests run in order on one private redis-server, which beforeAll fills
 * with filler keys of its own until Redis refuses a write.
 */
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activityShardKey,
  CLEANUP_QUEUE_NAME,
  type CreatedSession,
  legacyActivityKey,
  SESSION_CONNECTION_OPTIONS,
  SessionBackendError,
  SessionExpiredError,
  SessionNotFoundError,
  SessionStore,
  sessionKeyOf,
  slotOf,
  userKey,
} from "../../src/index.js";
import { loadScripts } from "../../src/scripts/index.js";
import { ALL_SLOTS } from "../support/slots.js";
import { sleep } from "../support/store-context.js";

/** Room left above what the server holds once the sessions below exist, for the fillers to take. */
const ROOM_BYTES = 1024 * 1024;
const FILLER = "f".repeat(8 * 1024);
/**
 * How far below what is used maxmemory is set once full. Redis judges each
 * write against used_memory at that moment, which its own buffers move by
 * tens of KB either way (the refused SET's query buffer counts in its own
 * refusal; cron then shrinks clients' buffers): a server just at its limit
 * lets a write in at every dip. This margin makes every call below meet a
 * full server, as one well past its limit (after an earlier write) would.
 */
const MARGIN_BYTES = 128 * 1024;
/**
 * How far used_memory may grow once full: less than one write's worth of
 * sessions. No data write is admitted, but INFO also counts clients' buffers
 * (a reply such as list's, query buffers), which move by a few KB between
 * calls. The defect this guards against adds a session per create (over
 * 1 KB each here, 300 creates) and went megabytes past the limit (4x).
 */
const SLACK_BYTES = 64 * 1024;
const SESSIONS = 100;
const DATA = { note: "d".repeat(1000) };

let server: RedisServer;
/** The store's connection, with the options session-core ships. */
let redis: Redis;
/** A plain connection to fill the server and read the truth. */
let direct: Redis;
let queueConnection: Redis;
let store: SessionStore;
/** What used_memory may not exceed once full. */
let ceiling: number;
let fillers = 0;
/** old-<i>'s session; old-0 also has a second one. */
const existing: CreatedSession[] = [];
let second: CreatedSession;
/** A session that has expired by the time Redis is full, and one whose record is corrupt. */
let expired: CreatedSession;
let corrupt: CreatedSession;
const SHORT_IDLE_MS = 100;
let shortStore: SessionStore;
/** A user with a live session, made due in its shard before Redis fills: the sweep must clean and re-add it. */
const DUE_LIVE = "old-13";

const scoreOf = async (userId: string) => direct.zscore(activityShardKey("", slotOf(userId)), userId);

async function usedMemory(): Promise<number> {
  const info = await direct.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

async function expectNoGrowth(): Promise<void> {
  expect(await usedMemory()).toBeLessThanOrEqual(ceiling);
}

/** A refusal because Redis is out of memory: the typed error, naming the operation, with Redis's OOM reply as cause. */
function expectOutOfMemory(error: unknown, operation: string): void {
  expect(error).toBeInstanceOf(SessionBackendError);
  expect((error as SessionBackendError).operation).toBe(operation);
  expect((error as SessionBackendError).message).toMatch(/OOM/);
  expect(((error as Error).cause as Error).message).toMatch(/^OOM /);
}

beforeAll(async () => {
  server = await startRedisServer({ args: ["--maxmemory-policy", "noeviction"] });
  redis = new Redis(server.url, { ...SESSION_CONNECTION_OPTIONS });
  direct = new Redis(server.url);
  // The cleanup queue, on the same server, takes the deletion of an expired session a read meets.
  queueConnection = new Redis(server.url, { maxRetriesPerRequest: null, lazyConnect: true });
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection });
  // Every read of an existing session below is due for its renewal.
  store = new SessionStore({ redis, queue, touchIntervalMs: 1 });
  for (let i = 0; i < SESSIONS; i++) existing.push(await store.create(`old-${i}`, { data: DATA, userInfo: { i } }));
  second = await store.create("old-0", { data: DATA });
  corrupt = await store.create("corrupt");
  await direct.hset(userKey("", "corrupt"), sessionKeyOf(corrupt.sessionId), "not a record");
  shortStore = new SessionStore({ redis, queue, idleTimeoutMs: SHORT_IDLE_MS, touchIntervalMs: 1 });

  // Redis takes about 30 KB for each script the first time it loads and runs it (once per server, full or
  // not); a server the store has been using has paid that already. Paid here, before the limit is set,
  // so that what is measured below is the writes.
  await warmUpScripts();
  expired = await shortStore.create("expired");
  await direct.zadd(activityShardKey("", slotOf(DUE_LIVE)), 1, DUE_LIVE);
  // What an earlier release left: the live user scored in the single activity set too.
  await direct.zadd(legacyActivityKey(""), 2, DUE_LIVE);

  await direct.config("SET", "maxmemory", String((await usedMemory()) + ROOM_BYTES));
  for (;;) {
    try {
      await direct.set(`filler:${fillers}`, FILLER);
      fillers++;
    } catch (error) {
      expect((error as Error).message).toMatch(/^OOM /);
      break;
    }
  }
  expect(fillers).toBeGreaterThan(0);
  await sleep(300); // for Redis's cron to settle clients' buffers
  const full = await usedMemory();
  await direct.config("SET", "maxmemory", String(full - MARGIN_BYTES));
  ceiling = full + SLACK_BYTES;
});

/** Runs every script once (the cleanup queue's too), on users of its own that are gone again at the end. */
async function warmUpScripts(): Promise<void> {
  const stale = await shortStore.create("warm-up-expired");
  await sleep(SHORT_IDLE_MS);
  await expect(shortStore.authenticate(stale.token)).rejects.toBeInstanceOf(SessionExpiredError);
  const { sessionId } = await store.create("warm-up");
  const other = await store.create("warm-up");
  await sleep(5);
  await store.get("warm-up", sessionId);
  await store.list("warm-up");
  await store.setUserInfo("warm-up", sessionId, {});
  await store.revoke("warm-up", other.session.handle);
  await store.removeOthers("warm-up", sessionId);
  await store.remove("warm-up", sessionId);
  await store.removeAll("warm-up");
  await store.deleteExpiredSession("warm-up", "A".repeat(43));
  // The sweep script deletes warm-up-expired; the drain script moves a member of an old activity set.
  expect((await store.sweepSlot(slotOf("warm-up-expired"), 10)).hashesDeleted).toBe(1);
  await direct.zadd(legacyActivityKey(""), 1, "warm-up-legacy");
  expect(await store.drainLegacyActivity(10)).toBe(1);
  expect((await store.sweepSlot(slotOf("warm-up-legacy"), 10)).usersCleaned).toBe(1);
  // The read that serves a session unrenewed runs only when Redis is full.
  const unrenewed = loadScripts().readSessionUnrenewed.lua;
  await direct.eval(unrenewed, 1, userKey("", "warm-up"), sessionId);
  expect(await direct.exists(userKey("", "warm-up"), userKey("", "warm-up-expired"))).toBe(0);
}

afterAll(async () => {
  await Promise.all([redis, direct, queueConnection].map((client) => client?.quit().catch(() => {})));
  await server?.stop();
});

describe("a full Redis", () => {
  it("refuses creates for new users with SessionBackendError, writes nothing and adds nothing to memory", async () => {
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const userId = `new-${i}`;
      try {
        await store.create(userId, { data: DATA });
      } catch (error) {
        expectOutOfMemory(error, "create");
        refused++;
        expect(await direct.exists(userKey("", userId))).toBe(0);
        expect(await scoreOf(userId)).toBeNull();
      }
      await expectNoGrowth();
    }
    expect(refused).toBe(300);
  });

  it("refuses a create for a user who already has sessions", async () => {
    const before = await direct.hgetall(userKey("", "old-1"));
    const error = await store.create("old-1", { data: DATA }).catch((e: unknown) => e);
    expectOutOfMemory(error, "create");
    expect(await direct.hgetall(userKey("", "old-1"))).toEqual(before);
    await expectNoGrowth();
  });

  it("refuses setUserInfo and leaves the user info as it was", async () => {
    const { sessionId } = existing[2] as CreatedSession;
    const error = await store.setUserInfo("old-2", sessionId, { changed: true }).catch((e: unknown) => e);
    expectOutOfMemory(error, "setUserInfo");
    expect((await store.get("old-2", sessionId)).userInfo).toEqual({ i: 2 });
    await expectNoGrowth();
  });

  it("keeps serving every existing session, unrenewed, though each read is due for its renewal", async () => {
    await sleep(5);
    const read = await Promise.all(
      existing.map((created, i) => {
        const userId = `old-${i}`;
        if (i % 3 === 0) return store.authenticate(created.token);
        if (i % 3 === 1) return store.get(userId, created.sessionId);
        return store.touch(userId, created.sessionId);
      }),
    );
    read.forEach((session, i) => {
      const created = (existing[i] as CreatedSession).session;
      expect(session.handle).toBe(created.handle);
      expect(session.userInfo).toEqual({ i });
      expect(session.data).toEqual(DATA);
      expect(session.lastSeenAt).toBe(created.lastSeenAt);
      expect(session.expiresAt).toBe(created.expiresAt);
    });
    await expectNoGrowth();
  });

  it("still tells an expired or corrupt session from a live one, deleting neither", async () => {
    await sleep(SHORT_IDLE_MS);
    await expect(store.authenticate(expired.token)).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(store.authenticate(corrupt.token)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await direct.hexists(userKey("", "corrupt"), sessionKeyOf(corrupt.sessionId))).toBe(1);
    await expectNoGrowth();
  });

  it("lists sessions", async () => {
    const sessions = await store.list("old-0");
    expect(sessions.map((s) => s.handle).sort()).toEqual(
      [(existing[0] as CreatedSession).session.handle, second.session.handle].sort(),
    );
  });

  it("still logs out: remove, revoke, removeOthers, removeAll", async () => {
    expect(await store.remove("old-10", (existing[10] as CreatedSession).sessionId)).toBe(true);
    expect(await store.revoke("old-11", (existing[11] as CreatedSession).session.handle)).toBe(true);
    expect(await store.removeAll("old-12")).toBe(1);
    expect(await store.removeOthers("old-0", second.sessionId)).toBe(1);
    for (const i of [10, 11, 12, 0]) {
      await expect(store.authenticate((existing[i] as CreatedSession).token)).rejects.toBeInstanceOf(
        SessionNotFoundError,
      );
    }
    expect(await store.authenticate(second.token)).toMatchObject({ userId: "old-0" });
    expect(await direct.exists(userKey("", "old-10"), userKey("", "old-11"), userKey("", "old-12"))).toBe(0);
    await expectNoGrowth();
  });

  it("still runs the cleanup operations", async () => {
    // Two slots are due: the expired session's, and that of a user made due while its session lives.
    expect(slotOf("expired")).not.toBe(slotOf(DUE_LIVE));
    const due = [slotOf("expired"), slotOf(DUE_LIVE)].sort((a, b) => a - b);
    expect(await store.findDueSlots(ALL_SLOTS)).toEqual(due);
    // The expired session goes, and its hash with it.
    expect(await store.sweepSlot(slotOf("expired"), 100)).toEqual({
      usersCleaned: 1,
      sessionsDeleted: 1,
      hashesDeleted: 1,
    });
    expect(await direct.exists(userKey("", "expired"))).toBe(0);
    expect(await scoreOf("expired")).toBeNull();
    // The live one is kept, and put back in its shard at its session's expiry.
    expect(await store.sweepSlot(slotOf(DUE_LIVE), 100)).toEqual({
      usersCleaned: 1,
      sessionsDeleted: 0,
      hashesDeleted: 0,
    });
    expect(await scoreOf(DUE_LIVE)).toBe(String((existing[13] as CreatedSession).session.expiresAt));
    expect(await store.findDueSlots(ALL_SLOTS)).toEqual([]);
    const sessionKey = "A".repeat(43);
    expect(await store.deleteExpiredSession(DUE_LIVE, sessionKey)).toEqual({
      deletedSession: false,
      deletedHash: false,
    });
    await expectNoGrowth();
  });

  it("still drains the single activity set of earlier releases into the shards", async () => {
    expect(await store.drainLegacyActivity(10)).toBe(1);
    expect(await direct.exists(legacyActivityKey(""))).toBe(0);
    // The shard keeps the lower of the two scores (the sweep above re-added the user at its expiry).
    expect(await scoreOf(DUE_LIVE)).toBe("2");
    expect(await store.drainLegacyActivity(10)).toBe(0);
  });

  it("creates and renews again once memory is freed", async () => {
    for (let i = 0; i < fillers; i += 500) {
      const keys = Array.from({ length: Math.min(500, fillers - i) }, (_, k) => `filler:${i + k}`);
      await direct.del(...keys);
    }
    const created = await store.create("new-after", { data: DATA });
    expect(await store.authenticate(created.token)).toMatchObject({ userId: "new-after" });
    await store.setUserInfo("old-2", (existing[2] as CreatedSession).sessionId, { changed: true });

    // The corrupt record, left while Redis was full, goes with the next read that may write.
    await expect(store.authenticate(corrupt.token)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await direct.exists(userKey("", "corrupt"))).toBe(0);

    await sleep(5);
    const before = (existing[20] as CreatedSession).session;
    const renewed = await store.authenticate((existing[20] as CreatedSession).token);
    expect(renewed.lastSeenAt).toBeGreaterThan(before.lastSeenAt);
    expect(renewed.expiresAt).toBeGreaterThan(before.expiresAt);
  });
});
