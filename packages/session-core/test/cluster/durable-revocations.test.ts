/**
 * durableRevocations on a real loopback Redis Cluster of three masters, each
 * with one replica: logouts wait for the replica on connections of their
 * own, report a missing acknowledgement, and survive a failover.
 *
 * A lagging replica is made by pausing its process (SIGSTOP), and, for the
 * failover, by also cutting its replication link on the master
 * (`CLIENT KILL TYPE replica`), so that what the master writes afterwards
 * stays in the master alone: a paused replica's socket would otherwise still
 * receive it and apply it on waking. Killing that master (SIGKILL) then loses
 * exactly those writes when the replica is promoted.
 */
import { type RedisCluster, type RedisClusterNode, startRedisCluster } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activityShardKey,
  CLEANUP_QUEUE_NAME,
  type CreatedSession,
  RevocationNotReplicatedError,
  SESSION_CONNECTION_OPTIONS,
  SessionError,
  SessionNotFoundError,
  SessionStore,
  type SessionStoreOptions,
  slotOf,
  userKey,
} from "../../src/index.js";
import { sleep } from "../support/store-context.js";

const PREFIX = "durable:";
/**
 * FAILOVER_LONG=1 runs the failover with ten times the logouts and prints
 * its figures; CI runs the short form.
 */
const LONG = process.env.FAILOVER_LONG === "1";
const LOGOUTS = LONG ? 60 : 6;

let cluster: RedisCluster;
let redis: Cluster;
let queueConnection: Cluster;
let queue: Queue;
const opened: SessionStore[] = [];
let nextUser = 0;

beforeAll(async () => {
  cluster = await startRedisCluster({
    masters: 3,
    replicas: 1,
    // Failures noticed within a second; a replica promoted however long its link was down.
    nodeTimeoutMs: 1_000,
    args: ["--cluster-replica-validity-factor", "0"],
  });
  redis = new Cluster(cluster.nodes, { redisOptions: { ...SESSION_CONNECTION_OPTIONS } });
  queueConnection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
  queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: "{bull-durable}" });
}, 60_000);

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  await queue?.close();
  queueConnection?.disconnect();
  redis?.disconnect();
  await cluster?.stop();
});

function openStore(options: Partial<SessionStoreOptions> = {}): SessionStore {
  const store = new SessionStore({ redis, queue, prefix: PREFIX, ...options });
  opened.push(store);
  return store;
}

/** The master serving `userId`'s hash now. */
async function masterOf(userId: string): Promise<number> {
  const key = userKey(PREFIX, userId);
  for (const node of redis.nodes("master")) {
    if ((await node.exists(key).catch(() => 0)) === 1) return node.options.port as number; // others answer MOVED
  }
  throw new Error(`no master holds ${key}`);
}

interface Login {
  userId: string;
  session: CreatedSession;
}

/** Logs `count` new users in (one session each, through `store`) whose hashes the master at `port` serves. */
async function loginsOn(store: SessionStore, port: number, count: number): Promise<Login[]> {
  const logins: Login[] = [];
  while (logins.length < count) {
    const userId = `user-${++nextUser}`;
    const session = await store.create(userId);
    if ((await masterOf(userId)) === port) logins.push({ userId, session });
  }
  return logins;
}

/**
 * The store's invariants for these users, read from the cluster as it is now: every user key has a TTL
 * covering its latest session plus the grace, and a user with a live session is in its slot's activity shard
 * at or before its earliest expiry. Returns the broken ones, described.
 */
async function brokenInvariants(store: SessionStore, userIds: readonly string[]): Promise<string[]> {
  const broken: string[] = [];
  const grace = store.settings.keyGraceMs;
  for (const userId of userIds) {
    const sessions = await store.list(userId);
    if (sessions.length === 0) continue;
    const keyExpiresAt = await redis.pexpiretime(userKey(PREFIX, userId));
    const latest = Math.max(...sessions.map((session) => session.expiresAt));
    if (keyExpiresAt < latest + grace) broken.push(`${userId}: key TTL ${keyExpiresAt} < ${latest} + grace`);
    const score = await redis.zscore(activityShardKey(PREFIX, slotOf(userId)), userId);
    const earliest = Math.min(...sessions.map((session) => session.expiresAt));
    if (score === null || Number(score) > earliest) broken.push(`${userId}: activity score ${score} > ${earliest}`);
  }
  return broken;
}

async function shardOf(index: number): Promise<{ master: RedisClusterNode; replica: RedisClusterNode }> {
  const shard = (await cluster.shards())[index];
  if (!shard?.replicas[0]) throw new Error(`shard ${index} has no replica`);
  return { master: shard.master, replica: shard.replicas[0] };
}

/** Waits until every replica of every live master has all of its master's writes so far. */
async function replicasInSync(): Promise<void> {
  for (const { master, replicas } of await cluster.shards()) {
    const direct = new Redis(master.port);
    try {
      // A write on this connection, then WAIT for it: a replica that has it has all the master wrote before.
      await direct.set(`sync:{${await tagServedBy(direct)}}`, "x");
      expect(await direct.wait(replicas.length, 10_000)).toBe(replicas.length);
    } finally {
      direct.disconnect();
    }
  }
}

/** A hash tag of a key the master at the other end of `direct` serves (asking Redis for key slots). */
async function tagServedBy(direct: Redis): Promise<string> {
  const myId = (await direct.cluster("MYID")) as string;
  const slots = await direct.cluster("SLOTS");
  const ranges = slots.filter(([, , ...nodes]) => nodes[0]?.[2] === myId);
  for (let i = 0; i < 1_000; i++) {
    const slot = (await direct.cluster("KEYSLOT", `t${i}`)) as number;
    if (ranges.some(([first, last]) => slot >= first && slot <= last)) return `t${i}`;
  }
  throw new Error("no tag of 1000 lands on this master");
}

describe("durableRevocations on a three-master cluster with one replica each", () => {
  it("each logout and rotation returns its result once the replica has it", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 5_000 } });
    const { master, replica } = await shardOf(0);
    const [a, b, c, d] = await loginsOn(store, master.port, 4);
    if (!a || !b || !c || !d) throw new Error("four logins expected");
    const second = await store.create(b.userId);
    await store.create(c.userId);

    expect(await store.remove(a.userId, a.session.sessionId)).toBe(true);
    expect(await store.revoke(b.userId, second.session.handle)).toBe(true);
    expect(await store.removeOthers(c.userId, c.session.sessionId)).toBe(1);
    const rotated = await store.rotate(d.userId, d.session.sessionId);
    expect(await store.removeAll(b.userId)).toBe(1);

    // Acknowledged means applied on the replica: read it there.
    const onReplica = new Redis(replica.port);
    try {
      await onReplica.readonly();
      const fields = async (userId: string) =>
        (await onReplica.hkeys(userKey(PREFIX, userId))).filter((field) => !field.startsWith("#"));
      expect(await fields(a.userId)).toEqual([]);
      expect(await fields(b.userId)).toEqual([]);
      expect(await fields(c.userId)).toHaveLength(1);
      expect(await store.get(d.userId, rotated.sessionId)).toMatchObject({ handle: d.session.session.handle });
      expect(await fields(d.userId)).toHaveLength(1);
    } finally {
      onReplica.disconnect();
    }
  });

  it("with the replica paused, a logout reports the missing acknowledgement, and has happened on the master", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 200 } });
    const { master, replica } = await shardOf(1);
    const [a, b] = await loginsOn(store, master.port, 2);
    if (!a || !b) throw new Error("two logins expected");
    cluster.pause(replica);
    try {
      const removal = await store.remove(a.userId, a.session.sessionId).catch((error: unknown) => error);
      expect(removal).toBeInstanceOf(RevocationNotReplicatedError);
      expect(removal).toMatchObject({ code: "ERR_REVOCATION_NOT_REPLICATED", operation: "remove", acknowledged: 0 });
      expect((removal as RevocationNotReplicatedError).result).toBe(true);
      await expect(store.get(a.userId, a.session.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);

      const rotation = await store.rotate(b.userId, b.session.sessionId).catch((error: unknown) => error);
      expect(rotation).toBeInstanceOf(RevocationNotReplicatedError);
      const rotated = (rotation as RevocationNotReplicatedError).result as CreatedSession;
      expect(await store.get(b.userId, rotated.sessionId)).toMatchObject({ handle: b.session.session.handle });
      await expect(store.get(b.userId, b.session.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    } finally {
      cluster.resume(replica);
    }
    // Once the replica is back, the same logout again is acknowledged.
    expect(await store.remove(a.userId, a.session.sessionId)).toBe(false);
  });

  it("other calls on the store are not held up while a logout waits for its replica", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 3_000 } });
    const { master, replica } = await shardOf(2);
    const [waiting, other] = await loginsOn(store, master.port, 2);
    if (!waiting || !other) throw new Error("two logins expected");
    const direct = new Redis(master.port);
    cluster.pause(replica);
    try {
      let settled = false;
      const removal = store.remove(waiting.userId, waiting.session.sessionId).finally(() => {
        settled = true;
      });
      removal.catch(() => {});
      // The WAIT is blocked on the master (on a connection of the store's own)...
      let blocked = false;
      for (let i = 0; i < 100 && !blocked; i++) {
        blocked = ((await direct.client("LIST")) as string).includes(" cmd=wait ");
        if (!blocked) await sleep(10);
      }
      expect(blocked).toBe(true);
      // ... while reads and writes of other users on that same master go through.
      expect(await store.get(other.userId, other.session.sessionId)).toMatchObject({ userId: other.userId });
      await store.create(other.userId);
      expect(await store.list(other.userId)).toHaveLength(2);
      expect(settled).toBe(false);
      await expect(removal).rejects.toBeInstanceOf(RevocationNotReplicatedError);
    } finally {
      cluster.resume(replica);
      direct.disconnect();
    }
  });

  it("after a failover to a lagging replica, no acknowledged logout comes back; calls in the gap fail typed", async () => {
    const durable = openStore({ durableRevocations: { replicas: 1, timeoutMs: 300 } });
    const plain = openStore();
    await replicasInSync();
    const { master, replica } = await shardOf(0);
    const before = await loginsOn(plain, master.port, LOGOUTS); // logged out durably while the replica keeps up
    const during = await loginsOn(plain, master.port, LOGOUTS); // logged out durably while it lags
    const plainly = await loginsOn(plain, master.port, LOGOUTS); // logged out without the option while it lags
    const [kept] = await loginsOn(plain, master.port, 1); // never logged out
    const elsewhere = await Promise.all(
      [1, 2].map(async (index) => loginsOn(plain, (await shardOf(index)).master.port, 3)),
    );
    await replicasInSync();

    // Continuous load: reads of users on every master and new logins, each call settling one way or the other.
    const loadErrors: unknown[] = [];
    let loadCalls = 0;
    let loading = true;
    const readers = [...before, ...elsewhere.flat()];
    const loadUsers: string[] = [];
    const load = (async () => {
      while (loading) {
        for (const { userId, session } of readers) {
          loadCalls++;
          await plain.get(userId, session.sessionId).catch((error: unknown) => {
            if (!(error instanceof SessionNotFoundError)) loadErrors.push(error);
          });
        }
        const newcomer = `load-${loadCalls}`;
        loadUsers.push(newcomer);
        loadCalls++;
        await plain.create(newcomer).catch((error: unknown) => loadErrors.push(error));
        await sleep(5);
      }
    })();

    for (const { userId, session } of before) expect(await durable.remove(userId, session.sessionId)).toBe(true);

    // The replica lags: paused, and cut off, so the master's later writes reach nobody.
    cluster.pause(replica);
    const direct = new Redis(master.port);
    await direct.call("CLIENT", "KILL", "TYPE", "replica");
    direct.disconnect();
    const reports = await Promise.all(
      during.map(({ userId, session }) => durable.remove(userId, session.sessionId).catch((error: unknown) => error)),
    );
    expect(reports.every((report) => report instanceof RevocationNotReplicatedError)).toBe(true);
    for (const { userId, session } of plainly) expect(await plain.remove(userId, session.sessionId)).toBe(true);

    const killedAt = Date.now();
    await cluster.kill(master);
    cluster.resume(replica);
    let promoted = false;
    for (let i = 0; i < 300 && !promoted; i++) {
      promoted = (await cluster.shards()).some((shard) => shard.master.port === replica.port);
      if (!promoted) await sleep(100);
    }
    expect(promoted).toBe(true);
    const promotedAfterMs = Date.now() - killedAt;
    // The store finds the new master: a session no one logged out is served again.
    if (!kept) throw new Error("one login expected");
    let served = false;
    for (let i = 0; i < 200 && !served; i++) {
      served = await plain.get(kept.userId, kept.session.sessionId).then(
        () => true,
        () => false,
      );
      if (!served) await sleep(100);
    }
    expect(served).toBe(true);
    const servedAfterMs = Date.now() - killedAt;
    loading = false;
    await load;

    const cameBack = async (logins: Login[]) =>
      (
        await Promise.all(
          logins.map(({ userId, session }) =>
            plain.get(userId, session.sessionId).then(
              () => true,
              (error: unknown) => {
                if (!(error instanceof SessionNotFoundError)) throw error;
                return false;
              },
            ),
          ),
        )
      ).filter(Boolean).length;
    if (LONG) {
      const codes: Record<string, number> = {};
      for (const error of loadErrors) {
        const code = (error as { code?: string }).code ?? String(error);
        codes[code] = (codes[code] ?? 0) + 1;
      }
      const figures = { promotedAfterMs, servedAfterMs, loadCalls, loadErrors: codes };
      const undone = {
        before: await cameBack(before),
        during: await cameBack(during),
        plainly: await cameBack(plainly),
      };
      console.info(JSON.stringify({ logoutsPerKind: LOGOUTS, undone, ...figures }));
    }
    // Every logout that returned normally with the option stays done.
    expect(await cameBack(before)).toBe(0);
    // The contrast: logouts the master answered but the replica never had are undone by the failover,
    // those without the option (which answered `true`) and those the option reported as not replicated.
    expect(await cameBack(plainly)).toBe(plainly.length);
    expect(await cameBack(during)).toBe(during.length);
    // The load ran through the gap; whatever failed there failed with a typed error.
    expect(loadCalls).toBeGreaterThan(readers.length);
    expect(loadErrors.filter((error) => !(error instanceof SessionError))).toEqual([]);
    // Whatever the failover kept or lost, each user's hash and activity score went together (one slot, one
    // replication stream): the invariants hold for every user touched, the load's new logins included.
    const everyone = [
      ...[...before, ...during, ...plainly, kept, ...elsewhere.flat()].map((login) => login.userId),
      ...loadUsers,
    ];
    expect(await brokenInvariants(plain, everyone)).toEqual([]);
  }, 60_000);
});
