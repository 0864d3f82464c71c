/**
 * SessionStore on a real three-master Redis Cluster, no mocks: the proof that
 * every script touches one user's slot and every other command one key.
 *
 * Each test works on 60 users, enough that their hashes land on every master
 * (the slot split of `redis-cli --cluster create` is fixed, so which user lands
 * where is the same on every run). A Redis Cluster answers CROSSSLOT to any
 * command spanning two slots: such an error would reject a store call, or, for
 * the enqueue (which the store only logs), show up in the captured warn and
 * error logs, which every test requires to stay empty. The sweep script builds
 * its users' keys from its shard's members without declaring them: the cluster
 * lets it only because they share the shard's slot.
 */
import { type RedisCluster, startRedisCluster } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  activityShardKey,
  CLEANUP_QUEUE_NAME,
  type DeleteExpiredSessionJobData,
  SessionExpiredError,
  SessionNotFoundError,
  SessionStore,
  type SessionStoreOptions,
  sessionKeyOf,
  slotOf,
  userKey,
} from "../../src/index.js";
import { ALL_SLOTS } from "../support/slots.js";
import { sleep } from "../support/store-context.js";

const USERS = Array.from({ length: 60 }, (_, i) => `user-${i}`);
/** Short enough to wait out, long enough that nothing expires mid-setup. */
const SHORT_IDLE_MS = 400;

let cluster: RedisCluster;
let redis: Cluster;
let queueConnection: Cluster;
let queue: Queue;
let prefix: string;
let problems: string[];
let testNumber = 0;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  redis = new Cluster(cluster.nodes);
  // BullMQ needs maxRetriesPerRequest null, and one hash tag for all of a queue's keys.
  queueConnection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
  queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: "{bull-test}" });
});

afterAll(async () => {
  await queue?.close();
  await queueConnection?.quit();
  await redis?.quit();
  await cluster?.stop();
});

beforeEach(() => {
  prefix = `cluster-${++testNumber}:`;
  problems = [];
});

afterEach(async () => {
  expect(problems).toEqual([]);
  await queue.obliterate({ force: true });
});

/** A store under a prefix of this test's own; warn and error logs go to `problems`. */
function openStore(options: Partial<SessionStoreOptions> = {}): SessionStore {
  const note = (level: string) => (obj: object, msg: string) =>
    problems.push(`${level}: ${msg} ${JSON.stringify(obj)}`);
  const logger = { debug() {}, info() {}, warn: note("warn"), error: note("error") };
  return new SessionStore({ redis, queue, prefix, logger, ...options });
}

/** How many of this test's user hashes each master holds. */
async function userHashesPerMaster(): Promise<number[]> {
  return Promise.all(redis.nodes("master").map(async (node) => (await node.keys(`${prefix}usersession:*`)).length));
}

/** How many users this test's activity shards hold on each master. */
async function shardMembersPerMaster(): Promise<number[]> {
  return Promise.all(
    redis.nodes("master").map(async (node) => {
      let members = 0;
      for (const shard of await node.keys(`${prefix}usersession-activity:*`)) members += await node.zcard(shard);
      return members;
    }),
  );
}

/** The worker's sweep over every slot: due slots found, each swept until nothing is due. */
async function sweepAll(store: SessionStore, limit: number) {
  const total = { usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0, calls: 0 };
  for (const slot of await store.findDueSlots(ALL_SLOTS)) {
    for (;;) {
      const step = await store.sweepSlot(slot, limit);
      total.calls++;
      total.usersCleaned += step.usersCleaned;
      total.sessionsDeleted += step.sessionsDeleted;
      total.hashesDeleted += step.hashesDeleted;
      if (step.usersCleaned < limit) break;
    }
  }
  return total;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const forEachUser = <T>(fn: (userId: string) => Promise<T>) => Promise.all(USERS.map(fn));

describe("SessionStore on a three-master Redis Cluster", () => {
  it("runs on a real cluster, which rejects a command spanning two slots", async () => {
    expect(redis.nodes("master")).toHaveLength(3);
    await expect(redis.mget("{a}x", "{b}x")).rejects.toThrow(/CROSSSLOT/);
  });

  it("spreads 60 users' session hashes over all three masters, one hash per user", async () => {
    const store = openStore();
    await forEachUser((userId) => store.create(userId, { device: { platform: "android" } }));

    const perMaster = await userHashesPerMaster();
    expect(perMaster.reduce((a, b) => a + b)).toBe(USERS.length);
    expect(perMaster.every((count) => count > 0)).toBe(true);
    const dbSizes = await Promise.all(redis.nodes("master").map((node) => node.dbsize()));
    expect(dbSizes.every((size) => size > 0)).toBe(true);
  });

  it("creates, reads, authenticates, touches and lists each user's devices on whichever master holds them", async () => {
    const store = openStore({ touchIntervalMs: 0 });
    await forEachUser(async (userId) => {
      const android = await store.create(userId, { device: { platform: "android" }, data: { n: 1 } });
      const ios = await store.create(userId, { device: { platform: "ios" } });
      const web = await store.create(userId, { device: { platform: "web" } });

      expect(await store.get(userId, ios.sessionId)).toMatchObject({ userId, handle: ios.session.handle });
      expect(await store.authenticate(web.token)).toMatchObject({ userId, handle: web.session.handle });
      await sleep(5);
      const touched = await store.touch(userId, android.sessionId);
      expect(touched.lastSeenAt).toBeGreaterThan(android.session.lastSeenAt);
      expect(touched.expiresAt).toBeGreaterThan(android.session.expiresAt);
      expect(touched.data).toEqual({ n: 1 });

      const listed = await store.list(userId);
      expect(listed.map((s) => s.device.platform).sort()).toEqual(["android", "ios", "web"]);
      expect(listed[0]?.handle).toBe(android.session.handle);
    });
    expect((await userHashesPerMaster()).every((count) => count > 0)).toBe(true);
  });

  it("shows user info set through one session to the user's other sessions", async () => {
    const store = openStore();
    await forEachUser(async (userId) => {
      const phone = await store.create(userId);
      const laptop = await store.create(userId);
      await store.setUserInfo(userId, phone.sessionId, { name: userId });
      expect((await store.get(userId, laptop.sessionId)).userInfo).toEqual({ name: userId });
      expect((await store.list(userId)).map((s) => s.userInfo)).toEqual([{ name: userId }, { name: userId }]);
    });
  });

  it("signs out one device by revoke, the others by removeOthers and all by removeAll", async () => {
    const store = openStore();
    await forEachUser(async (userId) => {
      const a = await store.create(userId);
      const b = await store.create(userId);
      const c = await store.create(userId);
      const d = await store.create(userId);

      expect(await store.revoke(userId, d.session.handle)).toBe(true);
      await expect(store.get(userId, d.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);

      expect(await store.removeOthers(userId, a.sessionId)).toBe(2);
      await expect(store.authenticate(b.token)).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(store.get(userId, c.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
      expect((await store.list(userId)).map((s) => s.handle)).toEqual([a.session.handle]);

      const e = await store.create(userId);
      expect(await store.removeAll(userId)).toBe(2);
      await expect(store.get(userId, e.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
      expect(await redis.exists(userKey(prefix, userId))).toBe(0);
    });
  });

  it("rejects an expired read and enqueues one deletion job per session, which deleteExpiredSession runs", async () => {
    const store = openStore({ idleTimeoutMs: SHORT_IDLE_MS, touchIntervalMs: 0 });
    const created = await forEachUser(async (userId) => ({ userId, ...(await store.create(userId)) }));
    await sleep(SHORT_IDLE_MS + 100);

    for (const { userId, sessionId, token } of created) {
      await expect(store.get(userId, sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(store.authenticate(token)).rejects.toBeInstanceOf(SessionExpiredError);
    }
    const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"]);
    expect(jobs).toHaveLength(USERS.length);
    const jobData = jobs.map((job) => job.data as DeleteExpiredSessionJobData);
    expect(jobData.map((data) => data.userId).sort()).toEqual([...USERS].sort());

    for (const { userId, sessionKey } of jobData) {
      expect(await store.deleteExpiredSession(userId, sessionKey)).toEqual({ deletedSession: true, deletedHash: true });
      expect(await store.deleteExpiredSession(userId, sessionKey)).toEqual({
        deletedSession: false,
        deletedHash: false,
      });
    }
    expect(await userHashesPerMaster()).toEqual([0, 0, 0]);
  });

  it("scores each user in the activity shard of its own slot, so the shards spread over all three masters", async () => {
    const store = openStore();
    const created = await forEachUser(async (userId) => ({
      userId,
      expiresAt: (await store.create(userId)).session.expiresAt,
    }));
    for (const { userId, expiresAt } of created) {
      expect(Number(await redis.zscore(activityShardKey(prefix, slotOf(userId)), userId))).toBe(expiresAt);
    }
    const perMaster = await shardMembersPerMaster();
    expect(sum(perMaster)).toBe(USERS.length);
    expect(perMaster.every((count) => count > 0)).toBe(true);
    expect(perMaster).toEqual(await userHashesPerMaster());
  });

  it("sweeps every due slot: drops dead hashes, re-scores users with a live session left", async () => {
    const shortLived = openStore({ idleTimeoutMs: SHORT_IDLE_MS, touchIntervalMs: 0 });
    const longLived = openStore();
    const stayers = new Set(USERS.filter((_, i) => i % 3 === 0));
    const live = new Map<string, number>();
    await forEachUser(async (userId) => {
      await shortLived.create(userId, { userInfo: { userId } });
      if (stayers.has(userId)) live.set(userId, (await longLived.create(userId)).session.expiresAt);
    });
    expect(await shortLived.findDueSlots(ALL_SLOTS)).toEqual([]);
    await sleep(SHORT_IDLE_MS + 100);
    const dueSlots = await shortLived.findDueSlots(ALL_SLOTS);
    expect(dueSlots).toEqual([...new Set(USERS.map(slotOf))].sort((a, b) => a - b));

    const swept = await sweepAll(shortLived, 1);
    expect(swept).toMatchObject({
      usersCleaned: USERS.length,
      sessionsDeleted: USERS.length,
      hashesDeleted: USERS.length - stayers.size,
    });
    expect(await shortLived.findDueSlots(ALL_SLOTS)).toEqual([]);
    for (const userId of USERS) {
      const score = await redis.zscore(activityShardKey(prefix, slotOf(userId)), userId);
      expect(score === null ? null : Number(score)).toBe(live.get(userId) ?? null);
      expect(await redis.exists(userKey(prefix, userId))).toBe(stayers.has(userId) ? 1 : 0);
    }
    const perMaster = await userHashesPerMaster();
    expect(sum(perMaster)).toBe(stayers.size);
    expect(perMaster.every((count) => count > 0)).toBe(true);
    for (const userId of stayers) expect(await longLived.list(userId)).toHaveLength(1);
  });

  it("a sweep step skips and reports a user key of another type, and cleans the others of its slot", async () => {
    const shortLived = openStore({ idleTimeoutMs: SHORT_IDLE_MS, touchIntervalMs: 0 });
    const longLived = openStore();
    const foreign = ["foreign-a", "foreign-b", "foreign-c"];
    for (const userId of foreign) {
      await redis.set(userKey(prefix, userId), "another writer's value");
      await redis.zadd(activityShardKey(prefix, slotOf(userId)), 1, userId);
    }
    await forEachUser(async (userId) => {
      await shortLived.create(userId);
      await longLived.create(userId);
    });
    await sleep(SHORT_IDLE_MS + 100);
    expect(await sweepAll(shortLived, 1_000)).toMatchObject({
      usersCleaned: USERS.length + foreign.length,
      sessionsDeleted: USERS.length,
      hashesDeleted: 0,
    });
    for (const userId of foreign) expect(await redis.get(userKey(prefix, userId))).toBe("another writer's value");
    expect(sum(await shardMembersPerMaster())).toBe(USERS.length);
    const reported = problems.map((line) => JSON.parse(line.slice(line.indexOf("{"))).userId).sort();
    expect(reported).toEqual(foreign);
    problems.length = 0;
  });

  it("rotates each user's session on whichever master holds it; the old secret is refused, the handle kept", async () => {
    const store = openStore();
    const other = openStore();
    const sessions = await forEachUser((userId) => store.create(userId, { device: { name: "phone" }, data: { n: 1 } }));
    expect((await userHashesPerMaster()).every((count) => count > 0)).toBe(true);
    await forEachUser(async (userId) => {
      const created = sessions[USERS.indexOf(userId)] as (typeof sessions)[number];
      await other.authenticate(created.token);
      const rotated = await store.rotate(userId, created.sessionId);
      expect(rotated.session).toMatchObject({ handle: created.session.handle, device: { name: "phone" } });
      await expect(other.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(other.authenticate(rotated.token)).resolves.toMatchObject({ handle: created.session.handle });
      expect(await redis.hkeys(userKey(prefix, userId))).toEqual([sessionKeyOf(rotated.sessionId)]);
      expect(await store.revoke(userId, created.session.handle)).toBe(true);
    });
    expect(await userHashesPerMaster()).toEqual([0, 0, 0]);
  });
});
