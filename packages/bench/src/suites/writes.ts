/**
 * Writes: `create` against connect-redis's `set`; `touch`, `list` (5 devices),
 * `setUserInfo`, `remove` and `removeAll` against raw ioredis doing the same
 * steps without atomicity. Each comparison interleaves its two contenders.
 */
import { type BenchContext, seed } from "../context.js";
import { type Figure, type Measured, throughputFigure } from "../figures.js";
import { compare } from "../harness.js";
import { DATA, DEVICE, SESSION_JSON, SESSION_OBJECT, USER_INFO } from "../payload.js";

const DAY = 86_400_000;

export async function writeSuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  await ctx.flush();
  const store = ctx.store();
  const eager = ctx.store({ touchIntervalMs: 0 });
  const figures: Figure[] = [];
  const run = (title: string, contenders: Parameters<typeof compare>[1]) => compare(title, contenders, sizes, progress);

  // create vs connect-redis set: a new session for a new user each time.
  const created = await run("create", [
    { name: "connect-redis set", op: (i, r) => ctx.connectRedis.set(`new-${r}-${i}`, { ...SESSION_OBJECT } as never) },
    { name: "session-core create", op: (i, r) => store.create(`new-${r}-${i}`, { data: DATA, device: DEVICE }) },
    { name: "raw ioredis SET", op: (i, r) => ctx.redis.set(`plainnew-${r}-${i}`, SESSION_JSON, "EX", 86_400) },
  ]);
  figures.push(
    throughputFigure(
      "`create`",
      created["session-core create"] as Measured,
      "connect-redis `set` (node-redis)",
      created["connect-redis set"] as Measured,
      0.9,
    ),
  );
  figures.push({
    ...throughputFigure(
      "`create` vs the ioredis floor",
      created["session-core create"] as Measured,
      "raw ioredis SET EX of the payload",
      created["raw ioredis SET"] as Measured,
      0,
    ),
    target: "reported",
    pass: null,
  });
  await ctx.flush();

  // A pool of users with 5 devices each, in both layouts, for touch, list and setUserInfo.
  const users = sizes.listUsers;
  progress.step(`writes: seeding ${users.toLocaleString("en")} users × 5 devices`);
  const sessions: { userId: string; sessionId: string }[] = new Array(users * 5);
  await seed(users * 5, async (i) => {
    const userId = `five-${i % users}`;
    sessions[i] = { userId, sessionId: (await store.create(userId, { data: DATA, device: DEVICE })).sessionId };
  });
  const rawKey = (u: number) => `raw5:{five-${u}}`;
  const rawRecord = () =>
    JSON.stringify({ ...SESSION_OBJECT, lastSeenAt: Date.now(), expiresAt: Date.now() + 7 * DAY });
  await seed(users * 5, (i) => ctx.redis.hset(rawKey(i % users), `s${i}`, rawRecord()));
  const pick = (i: number) => (i * 7919) % sessions.length;

  const touched = await run("touch", [
    {
      name: "raw touch",
      op: async (i) => {
        const k = pick(i);
        const key = rawKey(k % users);
        const record = JSON.parse((await ctx.redis.hget(key, `s${k}`)) as string);
        record.lastSeenAt = Date.now();
        record.expiresAt = record.lastSeenAt + 7 * DAY;
        await ctx.redis.hset(key, `s${k}`, JSON.stringify(record));
        await ctx.redis.pexpire(key, 7 * DAY);
      },
    },
    {
      name: "session-core touch",
      op: (i) => {
        const s = sessions[pick(i)] as { userId: string; sessionId: string };
        return eager.touch(s.userId, s.sessionId);
      },
    },
  ]);
  figures.push(halfOfRaw("`touch`", touched, "session-core touch", "raw touch", "raw HGET, parse, HSET, PEXPIRE"));

  const listed = await run("list", [
    {
      name: "raw list",
      op: async (i) => {
        const all = await ctx.redis.hgetall(rawKey(i % users));
        const now = Date.now();
        return Object.values(all)
          .map((value) => JSON.parse(value))
          .filter((record) => record.expiresAt > now)
          .sort((a, b) => b.lastSeenAt - a.lastSeenAt);
      },
    },
    { name: "session-core list", op: (i) => store.list(`five-${i % users}`) },
  ]);
  figures.push(
    halfOfRaw("`list` (5 devices)", listed, "session-core list", "raw list", "raw HGETALL, parse, filter, sort"),
  );

  const infoJson = JSON.stringify(USER_INFO);
  const infos = await run("setUserInfo", [
    {
      name: "raw setUserInfo",
      op: async (i) => {
        const k = pick(i);
        const key = rawKey(k % users);
        if (await ctx.redis.hexists(key, `s${k}`)) await ctx.redis.hset(key, "info", infoJson);
      },
    },
    {
      name: "session-core setUserInfo",
      op: (i) => {
        const s = sessions[pick(i)] as { userId: string; sessionId: string };
        return store.setUserInfo(s.userId, s.sessionId, USER_INFO);
      },
    },
  ]);
  figures.push(halfOfRaw("`setUserInfo`", infos, "session-core setUserInfo", "raw setUserInfo", "raw HEXISTS, HSET"));

  // remove and removeAll: seed what each contender removes before it runs; time a fixed count.
  const n = sizes.removals;
  let toRemove: { userId: string; sessionId: string }[] = [];
  const seedOurs = async (round: number, perUser: number) => {
    toRemove = new Array(n);
    await seed(n, async (i) => {
      const userId = `rm-${round}-${Math.floor(i / perUser)}`;
      toRemove[i] = { userId, sessionId: (await store.create(userId, { data: DATA, device: DEVICE })).sessionId };
    });
  };
  const seedRaw = (round: number, perUser: number) =>
    seed(n, (i) => ctx.redis.hset(`rawrm:{${round}-${Math.floor(i / perUser)}}`, `s${i}`, rawRecord()));

  const removed = await run("remove", [
    {
      name: "raw remove",
      totalOps: n,
      prepare: (round) => seedRaw(round, 2),
      op: (i, round) => ctx.redis.hdel(`rawrm:{${round}-${Math.floor(i / 2)}}`, `s${i}`),
    },
    {
      name: "session-core remove",
      totalOps: n,
      prepare: (round) => seedOurs(round, 2),
      op: (i) => {
        const s = toRemove[i] as { userId: string; sessionId: string };
        return store.remove(s.userId, s.sessionId);
      },
    },
  ]);
  figures.push(halfOfRaw("`remove`", removed, "session-core remove", "raw remove", "raw HDEL"));

  const removedAll = await run("removeAll", [
    {
      name: "raw removeAll",
      totalOps: n / 2,
      prepare: (round) => seedRaw(round + 100, 2),
      op: (i, round) => ctx.redis.del(`rawrm:{${round + 100}-${i}}`),
    },
    {
      name: "session-core removeAll",
      totalOps: n / 2,
      prepare: (round) => seedOurs(round + 100, 2),
      op: (i, round) => store.removeAll(`rm-${round + 100}-${i}`),
    },
  ]);
  figures.push(halfOfRaw("`removeAll` (2 devices)", removedAll, "session-core removeAll", "raw removeAll", "raw DEL"));
  return figures;
}

function halfOfRaw(
  figure: string,
  results: Record<string, Measured>,
  ours: string,
  baseline: string,
  baselineName: string,
): Figure {
  return throughputFigure(figure, results[ours] as Measured, baselineName, results[baseline] as Measured, 0.5);
}
