/**
 * The same store on a Redis Cluster of three masters (one replica each) and on
 * the single redis-server, in one run: `get` and `create` interleaved round
 * by round between the two, as the other suites interleave their contenders;
 * then the worker's sweep of the same due users (half keep a live session) with 1, 2 and 3 worker
 * replicas (separate processes sweeping one tick, so they split the slot
 * groups) on each topology, against pipelined raw DEL + ZREM of those users
 * on the single server, timed until every replica is done.
 * Every node runs on the same machine, so on a small machine the cluster's
 * six redis-servers share the cores the single server had to itself: the
 * ratios show the shape of the cluster's costs (routing, more connections,
 * replication), not what more machines would add.
 */
import { type SessionStore, SLOT_COUNT } from "@multisession/session-core";
import { type ClusterContext, openClusterContext } from "../cluster-context.js";
import { type BenchContext, REDIS_ARGS, seed } from "../context.js";
import { type Figure, type Measured, throughputFigure } from "../figures.js";
import { compare } from "../harness.js";
import { DATA, DEVICE } from "../payload.js";
import type { ReadFixture } from "./reads.js";
import {
  rawDelete,
  SWEEP_SETTINGS,
  type SweepResult,
  type SweepTarget,
  seedDangling,
  startSweepChild,
} from "./sweeper.js";

export async function clusterSuite(ctx: BenchContext): Promise<Figure[]> {
  const { progress } = ctx;
  progress.step("cluster: starting 3 masters with 1 replica each");
  const cluster = await openClusterContext(REDIS_ARGS);
  try {
    return [...(await throughputOnCluster(ctx, cluster)), ...(await sweepReplicas(ctx, cluster))];
  } finally {
    await cluster.close();
  }
}

async function throughputOnCluster(ctx: BenchContext, cluster: ClusterContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  await ctx.flush();
  await cluster.flush();
  const single = ctx.store();
  const clustered = cluster.store();

  progress.step(`cluster: seeding ${sizes.readUsers.toLocaleString("en")} users × 2 sessions on each topology`);
  const seedReads = async (store: typeof single) => {
    const sessions: ReadFixture["sessions"] = new Array(sizes.readUsers * 2);
    await seed(sizes.readUsers * 2, async (i) => {
      const userId = `reader-${i >> 1}`;
      const { sessionId, token } = await store.create(userId, { data: DATA, device: DEVICE });
      sessions[i] = { userId, sessionId, token };
    });
    return sessions;
  };
  const singleSessions = await seedReads(single);
  const clusterSessions = await seedReads(clustered);
  const pick = (i: number) => (i * 7919) % singleSessions.length;
  const reads = await compare(
    "cluster get",
    [
      {
        name: "single get",
        op: (i) => {
          const s = singleSessions[pick(i)] as ReadFixture["sessions"][number];
          return single.get(s.userId, s.sessionId);
        },
      },
      {
        name: "cluster get",
        op: (i) => {
          const s = clusterSessions[pick(i)] as ReadFixture["sessions"][number];
          return clustered.get(s.userId, s.sessionId);
        },
      },
    ],
    sizes,
    progress,
  );
  const creates = await compare(
    "cluster create",
    [
      { name: "single create", op: (i, r) => single.create(`new-${r}-${i}`, { data: DATA, device: DEVICE }) },
      { name: "cluster create", op: (i, r) => clustered.create(`new-${r}-${i}`, { data: DATA, device: DEVICE }) },
    ],
    sizes,
    progress,
  );
  await ctx.flush();
  await cluster.flush();
  const shape = "3 masters + 3 replicas on the same cores as the single server";
  return [
    versusSingle("`get` on a Redis Cluster", reads["cluster get"], reads["single get"], shape),
    versusSingle("`create` on a Redis Cluster", creates["cluster create"], creates["single create"], shape),
  ];
}

/** A figure of the cluster against the single server, reported: no target, the point is the shape. */
function versusSingle(
  figure: string,
  cluster: Measured | undefined,
  single: Measured | undefined,
  note: string,
): Figure {
  return {
    ...throughputFigure(figure, cluster as Measured, "the same on the single redis-server", single as Measured, 0),
    target: "reported",
    pass: null,
    note,
  };
}

interface SweepSetup {
  topology: "single" | "cluster";
  replicas: number;
}

const SWEEP_SETUPS: SweepSetup[] = [
  { topology: "single", replicas: 1 },
  { topology: "single", replicas: 2 },
  { topology: "single", replicas: 3 },
  { topology: "cluster", replicas: 1 },
  { topology: "cluster", replicas: 2 },
  { topology: "cluster", replicas: 3 },
];

/** Flat out: what the replicas can do, not the rest the worker's default duty cycle adds. */
const REPLICA_SETTING = SWEEP_SETTINGS.fast;

async function sweepReplicas(ctx: BenchContext, cluster: ClusterContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  const users = sizes.clusterSweepUsers;
  const rawMs: number[] = [];
  const sweptMs = new Map<SweepSetup, number[]>(SWEEP_SETUPS.map((setup) => [setup, []]));
  const split = new Map<SweepSetup, string>();
  const sides = {
    single: { redis: ctx.redis, flush: ctx.flush, target: ctx.url, store: ctx.store() },
    cluster: {
      redis: cluster.redis,
      flush: cluster.flush,
      target: `cluster:${cluster.nodesSpec}`,
      store: cluster.store(),
    },
  };
  const contenders: (SweepSetup | "raw")[] = ["raw", ...SWEEP_SETUPS];
  for (let round = 0; round < sizes.clusterSweepRounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(k + round) % contenders.length] as SweepSetup | "raw";
      const side = sides[contender === "raw" ? "single" : contender.topology];
      const tag = `r${round}k${k}`;
      await side.flush();
      await seedDangling(side.redis, users, tag);
      if (contender === "raw") {
        rawMs.push(await rawDelete(ctx.redis, users, tag));
        progress.step(`cluster sweep round ${round + 1}: raw DEL + ZREM ${Math.round(rawMs.at(-1) as number)} ms`);
        continue;
      }
      const { ms, results } = await sweepWith(side.target, contender.replicas, side.store, users);
      sweptMs.get(contender)?.push(ms);
      split.set(contender, results.map((result) => result.groupsSwept).join("/"));
      progress.step(
        `cluster sweep round ${round + 1}: ${contender.topology}, ${contender.replicas} replica(s) ${Math.round(ms)} ms (groups ${split.get(contender)})`,
      );
    }
  }
  await ctx.flush();
  await cluster.flush();
  const usersPerSec = (ms: number) => users / (ms / 1000);
  const raw = Math.min(...rawMs);
  return SWEEP_SETUPS.map((setup) => {
    const ms = Math.min(...(sweptMs.get(setup) as number[]));
    const where = setup.topology === "single" ? "single redis-server" : "Redis Cluster, 3 masters";
    const replicas = `${setup.replicas} worker replica${setup.replicas > 1 ? "s" : ""}`;
    const ratio = usersPerSec(ms) / usersPerSec(raw);
    return {
      figure: `sweep of ${users.toLocaleString("en")} due users (half keep a live session): ${where}, ${replicas} (${REPLICA_SETTING.label.split(":")[0]})`,
      ours: usersPerSec(ms),
      baseline: usersPerSec(raw),
      baselineName: "pipelined raw DEL + ZREM, single redis-server",
      unit: "users/s",
      ratio,
      // The shape is the point here; the sweeper suite holds the target, on dangling users alone.
      target: "reported",
      pass: null,
      note: `${(ms / 1000).toFixed(1)} s until every replica was done; slot groups swept per replica: ${split.get(setup)}`,
    };
  });
}

/**
 * `replicas` sweeper processes, connected first, then told to sweep the same tick at once; timed until
 * the last is done. Every seeded user must have been cleaned exactly once and no shard left with a due user.
 */
async function sweepWith(
  target: SweepTarget,
  replicas: number,
  store: SessionStore,
  users: number,
): Promise<{ ms: number; results: SweepResult[] }> {
  const tick = `bench:${process.hrtime.bigint()}`;
  const children = Array.from({ length: replicas }, () => startSweepChild(target, REPLICA_SETTING, tick));
  await Promise.all(children.map((child) => child.started));
  const started = performance.now();
  for (const child of children) child.go();
  const results = await Promise.all(children.map((child) => child.result));
  const ms = performance.now() - started;
  const cleaned = results.reduce((sum, result) => sum + result.usersScanned, 0);
  if (cleaned !== users) throw new Error(`${replicas} replicas cleaned ${cleaned} of ${users} users`);
  const left = await store.findDueSlots(Array.from({ length: SLOT_COUNT }, (_, slot) => slot));
  if (left.length > 0) throw new Error(`${left.length} shards still hold due users after the sweep`);
  return { ms, results };
}
