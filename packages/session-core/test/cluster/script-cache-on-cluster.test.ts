/**
 * A cluster node without the store's scripts cached (a promoted replica, a
 * master a slot was moved to, a SCRIPT FLUSH) answers NOSCRIPT, and the store
 * must send the script's source and carry on, with no error reaching the
 * caller. On a cluster, ioredis does not always hand that reply back as it
 * came: once a call has spent its redirections (`maxRedirections`, 16 by
 * default; a failover spends them on closed connections, CLUSTERDOWN and
 * MOVED), it rejects with "Too many Cluster redirections. Last error:
 * ReplyError: NOSCRIPT …". Here the client allows one redirection, which
 * makes that wrapping reachable in one step: a user's slot moves to a master
 * whose script cache is empty, so the call meets MOVED, then NOSCRIPT.
 */
import { type RedisCluster, startRedisCluster } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CLEANUP_QUEUE_NAME, SessionStore, userKey } from "../../src/index.js";

let cluster: RedisCluster;
let redis: Cluster;
/** One plain connection per node, for moving slots behind the cluster client's back. */
let admins: Redis[];
let queueConnection: Cluster;
let queue: Queue;
let prefix: string;
let testNumber = 0;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  // No periodic slot refresh: the client learns of a moved slot from MOVED alone.
  redis = new Cluster(cluster.nodes, { maxRedirections: 1, slotsRefreshInterval: 0 });
  admins = cluster.nodes.map(({ host, port }) => new Redis(port, host));
  queueConnection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
  queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: "{bull-scripts}" });
});

afterAll(async () => {
  await queue?.close();
  await queueConnection?.quit();
  await redis?.quit();
  for (const admin of admins ?? []) admin.disconnect();
  await cluster?.stop();
});

beforeEach(() => {
  prefix = `scripts-${++testNumber}:`;
});

const openStore = () => new SessionStore({ redis, queue, prefix, touchIntervalMs: 0 });

/** The admin connection and node id of the master serving `slot`. */
async function ownerOf(slot: number): Promise<{ admin: Redis; id: string }> {
  const ranges = (await admins[0]?.call("CLUSTER", "SLOTS")) as [number, number, [string, number, string]][];
  const range = ranges.find(([from, to]) => from <= slot && slot <= to);
  if (!range) throw new Error(`slot ${slot} is not served`);
  const [, , [, port, id]] = range;
  const admin = admins.find((node) => node.options.port === port);
  if (!admin) throw new Error(`no node on port ${port}`);
  return { admin, id };
}

/** Moves `slot` and its keys from its master to another, the way a resharding does. */
async function moveSlot(slot: number, to: Redis): Promise<void> {
  const from = await ownerOf(slot);
  const toId = String(await to.call("CLUSTER", "MYID"));
  await to.call("CLUSTER", "SETSLOT", slot, "IMPORTING", from.id);
  await from.admin.call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
  const keys = (await from.admin.call("CLUSTER", "GETKEYSINSLOT", slot, 1000)) as string[];
  if (keys.length > 0) {
    await from.admin.call("MIGRATE", to.options.host ?? "", to.options.port ?? 0, "", 0, 5_000, "KEYS", ...keys);
  }
  await to.call("CLUSTER", "SETSLOT", slot, "NODE", toId);
  await from.admin.call("CLUSTER", "SETSLOT", slot, "NODE", toId);
  for (const admin of admins) await admin.call("CLUSTER", "SETSLOT", slot, "NODE", toId);
}

describe("the script cache on a Redis Cluster", () => {
  it("calls succeed on every master after SCRIPT FLUSH on all of them", async () => {
    const store = openStore();
    const users = Array.from({ length: 30 }, (_, i) => `flushed-${i}`);
    const created = await Promise.all(users.map((userId) => store.create(userId)));
    await Promise.all(admins.map((admin) => admin.script("FLUSH")));

    const listed = await Promise.all(users.map((userId) => store.list(userId)));
    expect(listed.map((sessions) => sessions.length)).toEqual(users.map(() => 1));
    await Promise.all(admins.map((admin) => admin.script("FLUSH")));
    const touched = await Promise.all(users.map((userId, i) => store.touch(userId, created[i]?.sessionId ?? "")));
    expect(touched.map((session) => session.userId)).toEqual(users);
  });

  it("a call whose slot moved to a master without the scripts succeeds (MOVED, then NOSCRIPT)", async () => {
    const store = openStore();
    const { sessionId } = await store.create("mover");
    const slot = Number(await redis.cluster("KEYSLOT", userKey(prefix, "mover")));
    const { admin: owner } = await ownerOf(slot);
    const target = admins.find((admin) => admin !== owner) as Redis;
    await moveSlot(slot, target);
    await target.script("FLUSH");

    const [session] = await store.list("mover");
    expect(session?.userId).toBe("mover");
    await expect(store.touch("mover", sessionId)).resolves.toMatchObject({ userId: "mover" });
    // The slot did move: its keys are on the target now.
    expect(await target.call("CLUSTER", "COUNTKEYSINSLOT", slot)).toBeGreaterThan(0);
  });
});
