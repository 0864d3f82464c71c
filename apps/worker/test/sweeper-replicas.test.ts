/**
 * Sweepers made with createSweeper in this process, each on connections of
 * its own, against the suite's redis-server: several sweeping one namespace
 * at once split its groups, a lost lease stops its group, and the activity
 * set of older releases is drained into the shards and swept.
 */
import { Writable } from "node:stream";
import {
  activityShardKey,
  legacyActivityKey,
  SessionStore,
  SLOT_COUNT,
  slotOf,
  userKey,
} from "@multisession/session-core";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createMetrics } from "../src/metrics.js";
import { SweepLease } from "../src/sweeper/lease.js";
import { createSweeper, type Sweeper } from "../src/sweeper/sweeper.js";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, type LogLine } from "./support/worker.js";

const ALL_SLOTS = Array.from({ length: SLOT_COUNT }, (_, slot) => slot);
const opened: { side: SessionSide; connections: Redis[] }[] = [];

afterEach(async () => {
  for (const { side, connections } of opened.splice(0)) {
    for (const connection of connections) connection.disconnect();
    await side.close();
  }
});

function open(): { side: SessionSide; connections: Redis[] } {
  const entry = {
    side: openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 }),
    connections: [] as Redis[],
  };
  opened.push(entry);
  return entry;
}

/** A sweeper as the worker wires one, on a connection of its own; its log lines are kept. */
function sweeperOn(
  entry: { side: SessionSide; connections: Redis[] },
  settings: { groups?: number; leaseMs?: number; batchSize?: number; dutyPercent?: number } = {},
) {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as LogLine);
        done();
      },
    }),
  );
  const redis = new Redis(inject("redisUrl"));
  entry.connections.push(redis);
  const store = new SessionStore({ redis, queue: entry.side.queue, prefix: entry.side.prefix, logger });
  const lease = new SweepLease({
    redis,
    prefix: entry.side.prefix,
    groups: settings.groups ?? 16,
    leaseMs: settings.leaseMs ?? 30_000,
    logger,
  });
  const sweeper: Sweeper = createSweeper({
    store,
    lease,
    cron: "0 0 1 1 *",
    batchSize: settings.batchSize ?? 100,
    concurrency: 1,
    dutyPercent: settings.dutyPercent ?? 50,
    budgetMs: 600_000,
    logger,
    metrics: createMetrics(entry.side.queue),
  });
  return { sweeper, lines };
}

/** Users with 1 or 2 sessions about to expire, and users with one long-lived session; returns the expired count. */
async function seed(side: SessionSide, dangling: number, live: number): Promise<number> {
  const longLived = side.storeWith({ idleTimeoutMs: 10 * 60_000 });
  for (let start = 0; start < dangling; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, dangling - start) }, async (_, j) => {
        const i = start + j;
        for (let n = 0; n <= i % 2; n++) await side.store.create(`dangling-${i}`, { device: { name: `d${n}` } });
      }),
    );
  }
  await Promise.all(Array.from({ length: live }, (_, i) => longLived.create(`live-${i}`)));
  const lengths = side.redis.pipeline();
  for (let i = 0; i < dangling; i++) lengths.hlen(userKey(side.prefix, `dangling-${i}`));
  const expired = ((await lengths.exec()) ?? []).reduce((sum, [, n]) => sum + Number(n), 0);
  await sleep(350);
  return expired;
}

async function remaining(side: SessionSide, prefix: string, count: number): Promise<number> {
  const pipeline = side.redis.pipeline();
  for (let i = 0; i < count; i++) pipeline.exists(userKey(side.prefix, `${prefix}-${i}`));
  return ((await pipeline.exec()) ?? []).filter(([, exists]) => exists === 1).length;
}

describe("sweepers on one namespace", () => {
  it("two sweeping the same tick at once split the groups and clean every dangling user exactly once", async () => {
    const entry = open();
    const { side } = entry;
    const DANGLING = 4_000;
    const LIVE = 300;
    const expired = await seed(side, DANGLING, LIVE);
    const [a, b] = [sweeperOn(entry), sweeperOn(entry)];

    const [first, second] = await Promise.all([a.sweeper.sweep({ tick: "t1" }), b.sweeper.sweep({ tick: "t1" })]);

    expect(first.groupsSwept).toBeGreaterThan(0);
    expect(second.groupsSwept).toBeGreaterThan(0);
    expect([...first.groups, ...second.groups].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, g) => g));
    expect(first.hashesDeleted + second.hashesDeleted).toBe(DANGLING);
    expect(first.usersScanned + second.usersScanned).toBe(DANGLING);
    expect(first.sessionsDeleted + second.sessionsDeleted).toBe(expired);
    expect(await remaining(side, "dangling", DANGLING)).toBe(0);
    expect(await remaining(side, "live", LIVE)).toBe(LIVE);
    expect(await side.store.findDueSlots(ALL_SLOTS)).toEqual([]);

    // The same tick again: every group was taken in it, so neither sweeps anything.
    const again = await Promise.all([a.sweeper.sweep({ tick: "t1" }), b.sweeper.sweep({ tick: "t1" })]);
    expect(again.map((summary) => summary.groupsSwept)).toEqual([0, 0]);
    // Each group's mark was cleared when its sweep ended: no report of an unfinished one.
    expect([...a.lines, ...b.lines].filter((line) => line.msg === "previous sweep did not finish")).toEqual([]);
  });

  it("a group whose lease is lost stops after its current step, and the walk goes on with the other groups", async () => {
    const entry = open();
    const { side } = entry;
    await seed(side, 600, 0);
    // Two groups, slowed down (one user a step, resting 19 times as long as each step took).
    const { sweeper, lines } = sweeperOn(entry, { groups: 2, leaseMs: 1_000, batchSize: 1, dutyPercent: 5 });
    const sweeping = sweeper.sweep({ tick: "t1" });
    await eventually(() => lines.some((line) => line.msg === "sweep progress"), 10_000, 5);
    const [group] = (await side.redis.keys(`${side.prefix}{usersession-sweeper}:lease:*`)).map((key) =>
      Number(key.split(":").at(-1)),
    );
    await side.redis.set(`${side.prefix}{usersession-sweeper}:lease:${group}`, "another replica", "PX", 60_000);
    const summary = await sweeping;

    expect(lines.find((line) => line.msg.startsWith("sweep lease lost"))).toMatchObject({ level: 40, group });
    expect(summary.groups.sort()).toEqual([0, 1]);
    // The other group was swept to the end; the lost one still has due users, left to its new holder.
    const due = await side.store.findDueSlots(ALL_SLOTS);
    expect(due.length).toBeGreaterThan(0);
    expect(due.every((slot) => Math.floor(slot / (SLOT_COUNT / 2)) === group)).toBe(true);
    expect(summary.usersScanned).toBeLessThan(600);
    expect(await side.redis.get(`${side.prefix}{usersession-sweeper}:lease:${group}`)).toBe("another replica");
  });

  it("users in the activity set of an older release are moved into their shards by group 0's holder, and swept", async () => {
    const entry = open();
    const { side } = entry;
    const DANGLING = 1_500;
    const LIVE = 200;
    const expired = await seed(side, DANGLING, LIVE);
    // As an older release left them: every user in the single set, none in the shards.
    const users = [
      ...Array.from({ length: DANGLING }, (_, i) => `dangling-${i}`),
      ...Array.from({ length: LIVE }, (_, i) => `live-${i}`),
    ];
    const scores = new Map<string, string>();
    for (const userId of users) {
      const shard = activityShardKey(side.prefix, slotOf(userId));
      const score = (await side.redis.zscore(shard, userId)) as string;
      scores.set(userId, score);
      await side.redis.multi().zrem(shard, userId).zadd(legacyActivityKey(side.prefix), score, userId).exec();
    }
    expect(await side.store.findDueSlots(ALL_SLOTS)).toEqual([]);
    expect(await side.redis.zcard(legacyActivityKey(side.prefix))).toBe(DANGLING + LIVE);

    const { sweeper, lines } = sweeperOn(entry, { batchSize: 200, dutyPercent: 100 });
    // Users moved into a group this walk had already swept wait for the next tick.
    const first = await sweeper.sweep({ tick: "t1" });
    const second = await sweeper.sweep({ tick: "t2" });

    expect(await side.redis.exists(legacyActivityKey(side.prefix))).toBe(0);
    const moved = lines.filter((line) => line.msg === "moved users from the legacy activity set into their shards");
    expect(moved.map((line) => line.moved)).toEqual([DANGLING + LIVE]);
    expect(first.hashesDeleted + second.hashesDeleted).toBe(DANGLING);
    expect(first.sessionsDeleted + second.sessionsDeleted).toBe(expired);
    expect(await remaining(side, "dangling", DANGLING)).toBe(0);
    // The live users are in their own shards, at the score the old set gave them.
    for (let i = 0; i < LIVE; i++) {
      const userId = `live-${i}`;
      expect(await side.redis.zscore(activityShardKey(side.prefix, slotOf(userId)), userId)).toBe(scores.get(userId));
    }
  });
});
