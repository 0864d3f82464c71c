/**
 * One benchmark run: a private redis-server, the suites in order, the report.
 * `main.ts` is the command line; the unit test calls this in tiny mode.
 */
import { startRedisServer } from "@multisession/redis-server";
import { openContext, REDIS_ARGS } from "./context.js";
import type { Figure } from "./figures.js";
import { type Mode, SIZES } from "./modes.js";
import { Progress } from "./progress.js";
import { runInfo, writeReport } from "./report.js";
import { clusterSuite } from "./suites/cluster.js";
import { jobSuite } from "./suites/jobs.js";
import { latencySuite } from "./suites/latency.js";
import { memorySuite } from "./suites/memory.js";
import { readSuite } from "./suites/reads.js";
import { sweeperSuite } from "./suites/sweeper.js";
import { writeSuite } from "./suites/writes.js";

export const SUITES = {
  reads: readSuite,
  writes: writeSuite,
  jobs: jobSuite,
  sweeper: sweeperSuite,
  latency: latencySuite,
  memory: memorySuite,
  cluster: clusterSuite,
} as const;

export type SuiteName = keyof typeof SUITES;

export interface RunOptions {
  mode: Mode;
  suites?: SuiteName[];
  outDir: string;
  command: string;
  quiet?: boolean;
}

export async function runBenchmarks(options: RunOptions) {
  const startedAt = new Date();
  const sizes = SIZES[options.mode];
  const progress = new Progress(options.quiet);
  const server = await startRedisServer({ args: REDIS_ARGS });
  const ctx = await openContext(server.url, sizes, progress);
  const figures: Figure[] = [];
  try {
    const version = /redis_version:(\S+)/.exec(await ctx.redis.info("server"))?.[1] ?? "unknown";
    progress.step(`redis-server ${version} on ${server.url}; ${options.mode} mode`);
    for (const name of options.suites ?? (Object.keys(SUITES) as SuiteName[])) {
      progress.step(`suite ${name}`);
      figures.push(...(await SUITES[name](ctx)));
    }
    const info = runInfo(options.mode, options.command, startedAt, version, [
      "--maxmemory-policy",
      "noeviction",
      ...REDIS_ARGS,
    ]);
    const paths = writeReport(options.outDir, figures, info);
    return { figures, info, ...paths };
  } finally {
    await ctx.close();
    await server.stop();
  }
}
