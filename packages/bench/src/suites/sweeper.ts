/**
 * The sweeper, run by the worker's sweep in a process of its own, against
 * pipelined raw DEL + ZREM of the same users, grouped by shard, on two sets
 * of due users, each scored in its slot's activity shard:
 * - dangling users: 1 to 3 sessions each, every one expired (the key's TTL
 *   says so, and the sweep deletes the hash without reading it). Raw DEL +
 *   ZREM does exactly the same job here; the target applies to these.
 * - the mix of issue 5: the same, but half of the users also hold one live
 *   session, which the sweep reads and keeps. Raw DEL deletes it too, so it
 *   is not the same job: reported, with the time for 1M at the defaults.
 * Also: the sweep process's peak RSS at a quarter and at the full size.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { activityShardKey, DEFAULTS, SLOT_COUNT, slotOf, userKey } from "@multisession/session-core";
import type { Cluster, Redis } from "ioredis";
import type { BenchContext } from "../context.js";
import { type Figure, ratioOf } from "../figures.js";
import { storedRecord } from "../payload.js";

// Always the built file, whether this module runs from src/ (tests) or dist/.
const CHILD = fileURLToPath(new URL("../../dist/sweep-child.js", import.meta.url));
export const SWEEP_BATCH = 1_000;
/** The worker's default SWEEP_SLOT_GROUPS. */
export const SWEEP_SLOT_GROUPS = 16;
/** A sweeper setting: SWEEP_CONCURRENCY and SWEEP_DUTY_PERCENT, and how the table names it. */
export interface SweepSetting {
  concurrency: number;
  dutyPercent: number;
  label: string;
}

/** The worker's defaults, and a setting that sweeps flat out, trading read latency for sweep speed. */
export const SWEEP_SETTINGS: { default: SweepSetting; fast: SweepSetting } = {
  default: { concurrency: 1, dutyPercent: 50, label: "worker defaults: SWEEP_CONCURRENCY=1, SWEEP_DUTY_PERCENT=50" },
  fast: { concurrency: 2, dutyPercent: 100, label: "flat out: SWEEP_CONCURRENCY=2, SWEEP_DUTY_PERCENT=100" },
};

export interface SweepResult {
  durationMs: number;
  usersScanned: number;
  groupsSwept: number;
  sessionsDeleted: number;
  hashesDeleted: number;
  peakRssMb: number;
  baseRssMb: number;
}

/** Which due users a seed makes: see the top of this file. */
export type DueUsers = "dangling" | "partly live";

/**
 * Seeds `users` due users as described above, on one server or a cluster alike: the commands of
 * 1,000 users at a time go out together (the connection auto-pipelines them, per node on a cluster).
 */
export async function seedDangling(
  redis: Redis | Cluster,
  users: number,
  tag: string,
  kind: DueUsers = "partly live",
): Promise<void> {
  const now = Date.now();
  const expired = storedRecord(now, -60_000);
  const live = storedRecord(now, 86_400_000);
  for (let start = 0; start < users; start += 1_000) {
    const writes: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(users, start + 1_000); i++) {
      const userId = `${tag}-${i}`;
      const key = userKey("", userId);
      const fields: string[] = [];
      for (let n = 0; n <= i % 3; n++) fields.push(`${i.toString(36)}e${n}`.padEnd(43, "A"), expired);
      const keepsOne = kind === "partly live" && i % 2 === 0;
      if (keepsOne) fields.push(`${i.toString(36)}l`.padEnd(43, "A"), live);
      writes.push(
        redis.hset(key, ...fields),
        // As the store leaves it (coverExpiry): the latest session's expiry plus keyGraceMs.
        redis.pexpireat(key, (keepsOne ? now + 86_400_000 : now - 60_000) + DEFAULTS.keyGraceMs),
        redis.zadd(activityShardKey("", slotOf(userId)), now - 60_000, userId),
      );
    }
    await Promise.all(writes);
  }
}

/** Where a sweep child connects: a redis:// URL, or `cluster:<host:port>,…`. */
export type SweepTarget = string;

export interface SweepChild {
  /** Resolves once the child is connected and waits for `go`. */
  started: Promise<void>;
  /** Starts its sweep. */
  go(): void;
  result: Promise<SweepResult>;
  child: ChildProcess;
}

/** One sweeper replica in a process of its own (sweep-child.ts); replicas given the same `tick` split the groups. */
export function startSweepChild(
  target: SweepTarget,
  setting: SweepSetting = SWEEP_SETTINGS.default,
  tick = `bench:${process.hrtime.bigint()}`,
): SweepChild {
  const args = [
    CHILD,
    target,
    String(SWEEP_BATCH),
    String(setting.concurrency),
    String(setting.dutyPercent),
    String(SWEEP_SLOT_GROUPS),
    tick,
  ];
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let onStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const result = new Promise<SweepResult>((resolve, reject) => {
    lines.on("line", (line) => {
      const message = JSON.parse(line);
      if (message.started) onStarted();
      else resolve(message as SweepResult);
    });
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`sweep child exited with ${code}`));
    });
  });
  return { started, go: () => child.stdin?.write("go\n"), result, child };
}

/** One replica's whole sweep, started as soon as it is connected. */
export async function sweepOnce(target: SweepTarget, setting?: SweepSetting): Promise<SweepResult> {
  const run = startSweepChild(target, setting);
  await run.started;
  run.go();
  return run.result;
}

/**
 * The baseline: DEL of every user's hash and ZREM from its shard, pipelined 1,000 users at a time,
 * the users grouped by shard so that one ZREM takes all of a shard's users in that pipeline.
 */
export async function rawDelete(redis: BenchContext["redis"], users: number, tag: string): Promise<number> {
  // Grouped before the clock starts: the baseline knows its users, and is spared even that work.
  const byShard: string[][] = Array.from({ length: SLOT_COUNT }, () => []);
  for (let i = 0; i < users; i++) byShard[slotOf(`${tag}-${i}`)]?.push(`${tag}-${i}`);
  const started = performance.now();
  let pipeline = redis.pipeline();
  let queued = 0;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const members = byShard[slot] as string[];
    if (members.length === 0) continue;
    for (const member of members) pipeline.del(userKey("", member));
    pipeline.zrem(activityShardKey("", slot), ...members);
    queued += members.length;
    if (queued >= 1_000) {
      await pipeline.exec();
      pipeline = redis.pipeline();
      queued = 0;
    }
  }
  if (queued > 0) await pipeline.exec();
  return performance.now() - started;
}

export async function sweeperSuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  const users = sizes.sweepUsers;
  const oursMs: number[] = [];
  const rawMs: number[] = [];
  let last: SweepResult | undefined;
  // Redis's own time (INFO commandstats), summed over the rounds: what each side costs the server.
  const oursStats: CommandStats[] = [];
  const rawStats: CommandStats[] = [];
  const rounds = Math.min(sizes.rounds, 2);
  for (let round = 0; round < rounds; round++) {
    for (const contender of round % 2 ? ["raw", "ours"] : ["ours", "raw"]) {
      await ctx.flush();
      progress.step(`sweeper: seeding ${users.toLocaleString("en")} dangling users`);
      await seedDangling(ctx.redis, users, `d${round}`);
      await ctx.redis.config("RESETSTAT");
      if (contender === "ours") {
        last = await sweepOnce(ctx.url);
        if (last.usersScanned !== users) throw new Error(`sweep scanned ${last.usersScanned} of ${users} users`);
        oursMs.push(last.durationMs);
        oursStats.push(await commandStats(ctx.redis));
      } else {
        rawMs.push(await rawDelete(ctx.redis, users, `d${round}`));
        rawStats.push(await commandStats(ctx.redis));
      }
      progress.step(`sweeper round ${round + 1}/${rounds}: ${contender} done`);
    }
  }
  const redisUs = (stats: CommandStats[], commands: string[]) =>
    stats.reduce((sum, round) => sum + commands.reduce((us, name) => us + (round[name]?.usec ?? 0), 0), 0);
  // Dangling users alone, swept flat out: the issue 11 target.
  const danglingMs: number[] = [];
  const danglingRawMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const contender of round % 2 ? ["raw", "ours"] : ["ours", "raw"]) {
      await ctx.flush();
      progress.step(`sweeper: seeding ${users.toLocaleString("en")} dangling users, every session expired`);
      await seedDangling(ctx.redis, users, `g${round}`, "dangling");
      if (contender === "ours") {
        const result = await sweepOnce(ctx.url, SWEEP_SETTINGS.fast);
        if (result.hashesDeleted !== users) throw new Error(`sweep deleted ${result.hashesDeleted} of ${users} hashes`);
        danglingMs.push(result.durationMs);
      } else {
        danglingRawMs.push(await rawDelete(ctx.redis, users, `g${round}`));
      }
      progress.step(`sweeper, dangling users, round ${round + 1}/${rounds}: ${contender} done`);
    }
  }
  // Per-round paired ratios (ratioOf): throughput is users ÷ time, so ours ÷ raw is raw's time ÷ ours.
  const asRate = (ms: number[]) => ({ median: users / Math.min(...ms), samples: ms.map((one) => users / one) });
  const danglingRatio = ratioOf(asRate(danglingMs), asRate(danglingRawMs));

  const scriptCalls = oursStats.reduce((sum, round) => sum + (round.evalsha?.calls ?? 0), 0);
  const oursRedisUs = redisUs(oursStats, ["evalsha", "zrange"]) / (users * rounds);
  const rawRedisUs = redisUs(rawStats, ["del", "zrem"]) / (users * rounds);
  const discoveryMs = redisUs(oursStats, ["zrange"]) / rounds / 1000;
  const ours = Math.min(...oursMs);
  const raw = Math.min(...rawMs);
  const usersPerSec = (ms: number) => users / (ms / 1000);
  const ratio = usersPerSec(ours) / usersPerSec(raw);

  // Peak RSS at a quarter of the users, to see that it does not grow with them.
  await ctx.flush();
  await seedDangling(ctx.redis, Math.max(1, Math.floor(users / 4)), "q");
  const quarter = await sweepOnce(ctx.url);
  const full = last as SweepResult;

  // The same sweep at the faster setting (see the latency suite for what it costs reads).
  await ctx.flush();
  await seedDangling(ctx.redis, users, "fast");
  const fast = await sweepOnce(ctx.url, SWEEP_SETTINGS.fast);
  progress.step(`sweeper: ${fast.durationMs} ms ${SWEEP_SETTINGS.fast.label}`);
  progress.step(
    `sweeper: peak RSS ${full.peakRssMb.toFixed(0)} MB at ${users} users, ${quarter.peakRssMb.toFixed(0)} MB at a quarter`,
  );
  const growth = full.peakRssMb - quarter.peakRssMb;

  const mix = `${users.toLocaleString("en")} due users, half of them keeping a live session`;
  const notSameJob = "raw DEL deletes the live sessions too: not the same job";
  return [
    {
      figure: `sweeper: ${users.toLocaleString("en")} dangling users, every session expired (${SWEEP_SETTINGS.fast.label})`,
      ours: usersPerSec(Math.min(...danglingMs)),
      baseline: usersPerSec(Math.min(...danglingRawMs)),
      baselineName: "pipelined raw DEL + ZREM",
      unit: "users/s",
      ratio: danglingRatio,
      target: "≥ 0.7×",
      pass: danglingRatio >= 0.7,
      note: `${(Math.min(...danglingMs) / 1000).toFixed(1)} s for ${users.toLocaleString("en")} users; median of ${rounds} paired rounds`,
    },
    {
      figure: `sweeper: ${mix} (${SWEEP_SETTINGS.default.label})`,
      ours: usersPerSec(ours),
      baseline: usersPerSec(raw),
      baselineName: "pipelined raw DEL + ZREM",
      unit: "users/s",
      ratio,
      target: "under 30 s for 1M",
      pass: (ours / 1000) * (1_000_000 / users) < 30,
      note: `${(ours / 1000).toFixed(1)} s for ${users.toLocaleString("en")} users (${full.sessionsDeleted.toLocaleString("en")} sessions, ${full.hashesDeleted.toLocaleString("en")} hashes deleted); ${notSameJob}`,
    },
    {
      figure: `sweeper: ${mix} (${SWEEP_SETTINGS.fast.label})`,
      ours: usersPerSec(fast.durationMs),
      baseline: usersPerSec(raw),
      baselineName: "pipelined raw DEL + ZREM",
      unit: "users/s",
      ratio: usersPerSec(fast.durationMs) / usersPerSec(raw),
      target: "reported",
      pass: null,
      note: `${(fast.durationMs / 1000).toFixed(1)} s for ${users.toLocaleString("en")} users; ${notSameJob}`,
    },
    {
      figure: "sweeper: Redis time per due user, half of them keeping a live session",
      ours: oursRedisUs,
      baseline: rawRedisUs,
      baselineName: "pipelined raw DEL + ZREM",
      unit: "µs",
      ratio: oursRedisUs / rawRedisUs,
      target: "reported",
      pass: null,
      note: `Redis's own time (INFO commandstats): sweep scripts and findDueSlots' ZRANGEs (${discoveryMs.toFixed(0)} ms a sweep), ${Math.round(scriptCalls / rounds).toLocaleString("en")} script calls a sweep`,
    },
    {
      figure: "sweeper process peak RSS",
      ours: full.peakRssMb,
      baseline: quarter.peakRssMb,
      baselineName: `the same sweep of a quarter of the users`,
      unit: "MB",
      ratio: full.peakRssMb / quarter.peakRssMb,
      target: "flat (within 25 MB)",
      pass: growth < 25,
    },
  ];
}

type CommandStats = Record<string, { calls: number; usec: number }>;

/** INFO commandstats: calls and microseconds of each command since the last CONFIG RESETSTAT. */
export async function commandStats(redis: Redis | Cluster): Promise<CommandStats> {
  const stats: CommandStats = {};
  for (const [, name, calls, usec] of (await redis.info("commandstats")).matchAll(
    /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm,
  )) {
    stats[name as string] = { calls: Number(calls), usec: Number(usec) };
  }
  return stats;
}
