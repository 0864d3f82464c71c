/**
 * rotate on a real three-master Redis Cluster: its script touches one user's
 * slot only, so it runs on whichever master holds the user, and the old
 * secret is refused there at once. 60 users land on every master.
 */
import { type RedisCluster, startRedisCluster } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLEANUP_QUEUE_NAME, SessionNotFoundError, SessionStore, sessionKeyOf, userKey } from "../../src/index.js";

const USERS = Array.from({ length: 60 }, (_, i) => `rot-user-${i}`);
const prefix = "cluster-rotate:";

let cluster: RedisCluster;
let redis: Cluster;
let queueConnection: Cluster;
let queue: Queue;
const problems: string[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  redis = new Cluster(cluster.nodes);
  queueConnection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
  queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: "{bull-test}" });
});

afterAll(async () => {
  await queue?.close();
  await queueConnection?.quit();
  await redis?.quit();
  await cluster?.stop();
});

describe("rotate on a three-master Redis Cluster", () => {
  it("rotates each user's session on whichever master holds it; the old secret is refused, the handle kept", async () => {
    const note = (level: string) => (obj: object, msg: string) =>
      problems.push(`${level}: ${msg} ${JSON.stringify(obj)}`);
    const logger = { debug() {}, info() {}, warn: note("warn"), error: note("error") };
    const store = new SessionStore({ redis, queue, prefix, logger });
    const other = new SessionStore({ redis, queue, prefix, logger });

    const hashesPerMaster = () =>
      Promise.all(redis.nodes("master").map(async (node) => (await node.keys(`${prefix}usersession:*`)).length));

    const sessions = await Promise.all(
      USERS.map((userId) => store.create(userId, { device: { name: "phone" }, data: { n: 1 } })),
    );
    expect((await hashesPerMaster()).every((count) => count > 0)).toBe(true);
    await Promise.all(
      USERS.map(async (userId, i) => {
        const created = sessions[i] as (typeof sessions)[number];
        await other.authenticate(created.token);
        const rotated = await store.rotate(userId, created.sessionId);
        expect(rotated.session).toMatchObject({ handle: created.session.handle, device: { name: "phone" } });
        await expect(other.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
        await expect(other.authenticate(rotated.token)).resolves.toMatchObject({ handle: created.session.handle });
        expect(await redis.hkeys(userKey(prefix, userId))).toEqual([sessionKeyOf(rotated.sessionId)]);
        expect(await store.revoke(userId, created.session.handle)).toBe(true);
      }),
    );
    expect(await hashesPerMaster()).toEqual([0, 0, 0]);
    expect(problems).toEqual([]);
  });
});
