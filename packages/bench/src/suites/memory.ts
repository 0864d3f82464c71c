/**
 * Redis memory per session (INFO memory, used_memory before and after): the
 * session-core layout (hash per user, activity set) filled by `create`,
 * against connect-redis's layout (a string per session) with the same payload.
 */
import { activityKey } from "@multisession/session-core";
import { type BenchContext, seed, usedMemory } from "../context.js";
import type { Figure } from "../figures.js";
import { DATA, DEVICE, SESSION_OBJECT } from "../payload.js";

export async function memorySuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  const sessions = sizes.memoryUsers * 2;
  const store = ctx.store();

  await ctx.flush();
  const before = await usedMemory(ctx.redis);
  await seed(sessions, (i) => store.create(`mem-${i >> 1}`, { data: DATA, device: DEVICE }));
  const ours = ((await usedMemory(ctx.redis)) - before) / sessions;
  const activity = Number(await ctx.redis.memory("USAGE", activityKey(""))) / sessions;

  await ctx.flush();
  const beforeConnect = await usedMemory(ctx.redis);
  await seed(sessions, (i) => ctx.connectRedis.set(`mem-${i}`, { ...SESSION_OBJECT } as never));
  const connect = ((await usedMemory(ctx.redis)) - beforeConnect) / sessions;
  progress.step(`memory: ${ours.toFixed(0)} B/session (session-core) vs ${connect.toFixed(0)} B (connect-redis)`);
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
      note: `includes the per-user hash and the activity set, ${activity.toFixed(0)} B/session of it`,
    },
  ];
}
