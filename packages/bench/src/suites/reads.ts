/**
 * Reads of a live session: session-core's `get` and `authenticate` against a
 * raw ioredis HGET + JSON.parse of the same record and connect-redis's `get`,
 * interleaved in one comparison. Users have 2 sessions each.
 */
import { SESSION_CONNECTION_OPTIONS } from "@multisession/session-core";
import { Redis } from "ioredis";
import { type BenchContext, seed } from "../context.js";
import { type Figure, type Measured, ratioOf, throughputFigure } from "../figures.js";
import { compare } from "../harness.js";
import { DATA, DEVICE, SESSION_JSON, SESSION_OBJECT } from "../payload.js";

export interface ReadFixture {
  sessions: { userId: string; sessionId: string; token: string }[];
}

/** Seeds `users` users with 2 sessions each in session-core; also used by the latency suite. */
export async function seedReadFixture(ctx: BenchContext, users: number): Promise<ReadFixture> {
  const store = ctx.store();
  const sessions: ReadFixture["sessions"] = new Array(users * 2);
  await seed(users * 2, async (i) => {
    const userId = `reader-${i >> 1}`;
    const { sessionId, token } = await store.create(userId, { data: DATA, device: DEVICE });
    sessions[i] = { userId, sessionId, token };
  });
  return { sessions };
}

export async function readSuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  await ctx.flush();
  progress.step(`reads: seeding ${sizes.readUsers.toLocaleString("en")} users × 2 sessions in each system`);
  const { sessions } = await seedReadFixture(ctx, sizes.readUsers);
  const count = sessions.length;
  const rawKey = (i: number) => `raw:{reader-${i >> 1}}`;
  const rawField = (i: number) => `s${i}`;
  await seed(count, (i) => ctx.redis.hset(rawKey(i), rawField(i), SESSION_JSON));
  await seed(count, (i) => ctx.connectRedis.set(`s${i}`, { ...SESSION_OBJECT } as never));
  await seed(count, (i) => ctx.redis.set(`plain:s${i}`, SESSION_JSON));

  const store = ctx.store();
  // The same store on a connection without the command timeout, to show what bounding every call costs.
  const unboundedRedis = new Redis(ctx.url, { ...SESSION_CONNECTION_OPTIONS, commandTimeout: undefined });
  const unbounded = ctx.store({ redis: unboundedRedis });
  const pick = (i: number) => (i * 7919) % count;
  const results = await compare(
    "reads",
    [
      {
        name: "raw HGET+parse",
        op: async (i) => JSON.parse((await ctx.redis.hget(rawKey(pick(i)), rawField(pick(i)))) as string),
      },
      {
        name: "session-core get",
        op: (i) => {
          const s = sessions[pick(i)] as ReadFixture["sessions"][number];
          return store.get(s.userId, s.sessionId);
        },
      },
      // Next to `get`, so the two share a stretch of the machine's drift: their ratio is the token's cost.
      {
        name: "session-core authenticate",
        op: (i) => store.authenticate((sessions[pick(i)] as ReadFixture["sessions"][number]).token),
      },
      {
        name: "session-core get, no command timeout",
        op: (i) => {
          const s = sessions[pick(i)] as ReadFixture["sessions"][number];
          return unbounded.get(s.userId, s.sessionId);
        },
      },
      { name: "connect-redis get", op: (i) => ctx.connectRedis.get(`s${pick(i)}`) },
      // The two clients' floors, to tell the store's cost from the client's.
      {
        name: "raw ioredis GET+parse",
        op: async (i) => JSON.parse((await ctx.redis.get(`plain:s${pick(i)}`)) as string),
      },
      {
        name: "raw node-redis GET+parse",
        op: async (i) => JSON.parse((await ctx.nodeRedis.get(`plain:s${pick(i)}`)) as string),
      },
    ],
    sizes,
    progress,
  );
  unboundedRedis.disconnect();
  const result = (name: string) => results[name] as Measured & object;
  const raw = result("raw HGET+parse");
  const get = result("session-core get");
  const auth = result("session-core authenticate");
  const connect = result("connect-redis get");
  const ioredisFloor = result("raw ioredis GET+parse");
  const nodeRedisFloor = result("raw node-redis GET+parse");
  const noTimeout = result("session-core get, no command timeout");
  const bounded: Figure = {
    figure: "`get` on SESSION_CONNECTION_OPTIONS vs the same without its command timeout",
    ours: get.median,
    baseline: noTimeout.median,
    baselineName: "`get`, connection without `commandTimeout`",
    unit: "ops/s",
    ratio: ratioOf(get, noTimeout),
    target: "reported",
    pass: null,
    note: "what bounding every call (a timer per command) costs",
  };
  const clients: Figure = {
    figure: "client floor: raw ioredis GET vs raw node-redis GET",
    ours: ioredisFloor.median,
    baseline: nodeRedisFloor.median,
    baselineName: "node-redis (connect-redis's client)",
    unit: "ops/s",
    ratio: ratioOf(ioredisFloor, nodeRedisFloor),
    target: "reported",
    pass: null,
    note: "the ceiling any ioredis-based store has against connect-redis on this machine",
  };
  return [
    throughputFigure("`get` (live session)", get, "raw ioredis HGET + JSON.parse", raw, 0.8),
    throughputFigure("`get` vs connect-redis", get, "connect-redis `get`", connect, 1.3),
    throughputFigure("`authenticate`", auth, "raw ioredis HGET + JSON.parse", raw, 0.75),
    {
      figure: "`authenticate` vs `get`",
      ours: auth.median,
      baseline: get.median,
      baselineName: "`get` of the same sessions",
      unit: "ops/s",
      ratio: ratioOf(auth, get),
      target: "reported",
      pass: null,
      note: "what decoding the token costs on top of a read",
    },
    clients,
    bounded,
  ];
}
