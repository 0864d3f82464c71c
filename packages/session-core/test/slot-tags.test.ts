/**
 * The activity shards' hash tags (src/slot-tags.ts), checked against Redis's
 * own CLUSTER KEYSLOT: shard s is in slot s, and a user's hash and shard are
 * always in one slot, whatever the user id.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { seededRandom } from "@multisession/test-kit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activityShardKey, SLOT_COUNT, slotOf, userKey } from "../src/index.js";
import { SLOT_TAGS } from "../src/slot-tags.js";

let server: RedisServer;
let redis: Redis;
let dir: string;

beforeAll(async () => {
  // CLUSTER KEYSLOT needs a node in cluster mode; it answers without any slot assigned.
  dir = mkdtempSync(join(tmpdir(), "slot-tags-"));
  server = await startRedisServer({ dir, args: ["--cluster-enabled", "yes"] });
  redis = new Redis(server.url);
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function keySlots(keys: readonly string[]): Promise<number[]> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.cluster("KEYSLOT", key);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, slot]) => {
    if (error) throw error;
    return Number(slot);
  });
}

describe("slot tags", () => {
  it("are 16,384 three-character tags without braces", () => {
    expect(SLOT_TAGS).toHaveLength(SLOT_COUNT * 3);
    expect(SLOT_TAGS).toMatch(/^[0-9A-Za-z]+$/);
  });

  it("put shard s in slot s, by CLUSTER KEYSLOT, for every slot and any prefix", async () => {
    const slots = Array.from({ length: SLOT_COUNT }, (_, slot) => slot);
    expect(await keySlots(slots.map((slot) => activityShardKey("", slot)))).toEqual(slots);
    expect(await keySlots(slots.map((slot) => activityShardKey("app:v2:", slot)))).toEqual(slots);
  });

  it("keep a user's hash and shard in one slot, the slot slotOf names, for varied user ids", async () => {
    const random = seededRandom(11);
    const alphabet = ["a", "Z", "9", "-", "_", ".", "@", "é", "ß", "中", "😀", " ", "ü", "~"];
    const userIds = Array.from({ length: 2_000 }, (_, i) => {
      let id = "";
      const length = 1 + Math.floor(random() * 24);
      for (let c = 0; c < length; c++) id += alphabet[Math.floor(random() * alphabet.length)];
      return `${id}${i}`;
    });
    const hashSlots = await keySlots(userIds.map((userId) => userKey("p:", userId)));
    const shardSlots = await keySlots(userIds.map((userId) => activityShardKey("p:", slotOf(userId))));
    expect(shardSlots).toEqual(hashSlots);
    expect(userIds.map(slotOf)).toEqual(hashSlots);
  });

  it("refuse a slot outside 0 to 16383", () => {
    for (const slot of [-1, SLOT_COUNT, 1.5, Number.NaN]) {
      expect(() => activityShardKey("", slot)).toThrow(/slot must be an integer from 0 to 16383/);
    }
  });

  it("are what tools/generate-slot-tags.mjs generates (the file is not stale)", () => {
    const tool = fileURLToPath(new URL("../tools/generate-slot-tags.mjs", import.meta.url));
    expect(() => execFileSync(process.execPath, [tool, "--check"], { stdio: "pipe" })).not.toThrow();
  });
});
