/**
 * Redis memory per session (INFO memory, used_memory before and after): the
 * session-core layout (hash per user, activity shards) filled by `create`,
 * against connect-redis's layout (a string per session, `sess:<express-session
 * id>`) with the same payload; and, reported, with the cookie express-session
 * adds to every session it stores.
 */
import { randomBytes } from "node:crypto";
import { activityShardKey, encodeRecord, SLOT_COUNT, sessionKeyOf, slotOf, userKey } from "@multisession/session-core";
import type { Redis } from "ioredis";
import { type BenchContext, seed, usedMemory } from "../context.js";
import type { Figure } from "../figures.js";
import { DATA, DEVICE, expressSession, expressSessionId, SESSION_OBJECT } from "../payload.js";

const DAY = 86_400_000;

export async function memorySuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  const sessions = sizes.memoryUsers * 2;
  const store = ctx.store();

  await ctx.flush();
  const before = await usedMemory(ctx.redis);
  await seed(sessions, (i) => store.create(`mem-${i >> 1}`, { data: DATA, device: DEVICE }));
  const ours = ((await usedMemory(ctx.redis)) - before) / sessions;
  const activity = (await activityShardBytes(ctx.redis)) / sessions;

  // The same users three weeks on: each session renewed an hour ago, so its stored offsets have grown
  // to their usual length (written as the scripts would, with the key's TTL and the activity entry).
  await ctx.flush();
  const beforeAged = await usedMemory(ctx.redis);
  const now = Date.now();
  const aged = encodeRecord(
    {
      createdAt: now - 21 * DAY,
      lastSeenAt: now - 3_600_000,
      expiresAt: now - 3_600_000 + 7 * DAY,
      absoluteExpiresAt: now + 9 * DAY,
    },
    DATA,
    DEVICE,
  );
  for (let start = 0; start < sizes.memoryUsers; start += 1_000) {
    const pipeline = ctx.redis.pipeline();
    for (let u = start; u < Math.min(sizes.memoryUsers, start + 1_000); u++) {
      const key = userKey("", `mem-${u}`);
      pipeline.hset(key, sessionKeyOf(randomBytes(32).toString("base64url")), aged);
      pipeline.hset(key, sessionKeyOf(randomBytes(32).toString("base64url")), aged);
      pipeline.pexpireat(key, now + 7 * DAY);
      pipeline.zadd(activityShardKey("", slotOf(`mem-${u}`)), now + 6 * DAY, `mem-${u}`);
    }
    await pipeline.exec();
  }
  const oursAged = ((await usedMemory(ctx.redis)) - beforeAged) / sessions;

  const connectLayout = async (value: () => object) => {
    await ctx.flush();
    const start = await usedMemory(ctx.redis);
    await seed(sessions, () => ctx.connectRedis.set(expressSessionId(), value() as never));
    return ((await usedMemory(ctx.redis)) - start) / sessions;
  };
  const connect = await connectLayout(() => ({ ...SESSION_OBJECT }));
  const connectWithCookie = await connectLayout(expressSession);
  progress.step(
    `memory: ${ours.toFixed(0)} B/session (session-core; ${oursAged.toFixed(0)} B three weeks on) vs ${connect.toFixed(0)} B (connect-redis), ${connectWithCookie.toFixed(0)} B with express-session's cookie`,
  );
  await ctx.flush();
  return [
    {
      figure: `Redis memory per session (${sizes.memoryUsers.toLocaleString("en")} users × 2)`,
      ours,
      baseline: connect,
      baselineName: "connect-redis layout, same payload",
      unit: "bytes",
      ratio: ours / connect,
      target: "≤ 1.0×",
      pass: ours / connect <= 1,
      note: `includes the per-user hash and the activity shards, ${activity.toFixed(0)} B/session of them`,
    },
    {
      figure: "Redis memory per session, the same users three weeks on (sessions renewed)",
      ours: oursAged,
      baseline: connect,
      baselineName: "connect-redis layout, same payload",
      unit: "bytes",
      ratio: oursAged / connect,
      target: "reported",
      pass: null,
      note: "longer time offsets in each record; see docs/benchmarks.md on allocation size classes",
    },
    {
      figure: "Redis memory per session vs connect-redis as express-session fills it",
      ours,
      baseline: connectWithCookie,
      baselineName: "connect-redis, payload plus express-session's cookie",
      unit: "bytes",
      ratio: ours / connectWithCookie,
      target: "reported",
      pass: null,
    },
  ];
}

/** MEMORY USAGE of every activity shard that exists, summed. */
async function activityShardBytes(redis: Redis): Promise<number> {
  const pipeline = redis.pipeline();
  for (let slot = 0; slot < SLOT_COUNT; slot++) pipeline.memory("USAGE", activityShardKey("", slot));
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [, bytes]) => sum + Number(bytes ?? 0), 0);
}
