import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisCluster, startRedisCluster } from "../src/index.js";

let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  // A short node timeout, so that a failover takes seconds, not the default 15 s plus.
  cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000 });
  client = new Cluster(cluster.nodes);
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

/** A key the master at `port` serves, found by writing keys through the cluster client. */
async function keyServedBy(port: number): Promise<string> {
  const master = client.nodes("master").find((node) => node.options.port === port);
  if (!master) throw new Error(`no master on ${port}`);
  for (let i = 0; i < 100; i++) {
    await client.set(`key-${i}`, "x");
    // Another master answers MOVED.
    if ((await master.exists(`key-${i}`).catch(() => 0)) === 1) return `key-${i}`;
  }
  throw new Error(`no key of 100 on ${port}`);
}

async function firstShard() {
  const [shard] = await cluster.shards();
  const replica = shard?.replicas[0];
  if (!shard || !replica) throw new Error("a shard with a replica expected");
  return { master: shard.master, replica };
}

describe("startRedisCluster with replicas", () => {
  it("starts three masters, each with one replica linked and in sync", async () => {
    expect(cluster.nodes).toHaveLength(6);
    const shards = await cluster.shards();
    expect(shards).toHaveLength(3);
    expect(shards.every((shard) => shard.replicas.length === 1)).toBe(true);
    const ports = shards.flatMap((shard) => [shard.master.port, ...shard.replicas.map((replica) => replica.port)]);
    expect(new Set(ports).size).toBe(6);
    for (const { master, replicas } of shards) {
      const direct = new Redis(master.port);
      try {
        await direct.set(await keyServedBy(master.port), "written");
        expect(await direct.wait(1, 5_000)).toBe(1);
        expect(cluster.node(master.port).id).not.toBe(cluster.node(replicas[0]?.port as number).id);
      } finally {
        direct.disconnect();
      }
    }
  });

  it("a paused replica acknowledges nothing until it is resumed", async () => {
    const { master, replica } = await firstShard();
    const direct = new Redis(master.port);
    try {
      const key = await keyServedBy(master.port);
      cluster.pause(replica);
      await direct.set(key, "while paused");
      expect(await direct.wait(1, 200)).toBe(0);
      cluster.resume(replica);
      expect(await direct.wait(1, 5_000)).toBe(1);
    } finally {
      cluster.resume(replica);
      direct.disconnect();
    }
  });

  it("a killed master's replica is promoted and serves its slots", async () => {
    const { master, replica } = await firstShard();
    const key = await keyServedBy(master.port);
    const direct = new Redis(master.port);
    await direct.set(key, "before");
    expect(await direct.wait(1, 5_000)).toBe(1);
    direct.disconnect();

    await cluster.kill(master);
    let promoted = false;
    for (let i = 0; i < 200 && !promoted; i++) {
      promoted = (await cluster.shards()).some((shard) => shard.master.port === replica.port);
      if (!promoted) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(promoted).toBe(true);
    const onReplica = new Redis(replica.port);
    try {
      expect(await onReplica.get(key)).toBe("before");
    } finally {
      onReplica.disconnect();
    }
  }, 30_000);
});
