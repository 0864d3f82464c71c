/**
 * redis-kill: `kill -9` of redis-server under load, restarted from its
 * append-only file (`appendfsync always`) on the same port and directory,
 * cycle after cycle, with library and HTTP clients calling throughout and
 * the worker and API never restarted (under-load.ts). Every write Redis
 * acknowledged was fsynced first, so nothing acknowledged may be lost or
 * come back.
 */
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import { sleep } from "../stack.js";
import { runUnderLoad } from "../under-load.js";

export const REDIS_KILL_SIZES = {
  short: { cycles: 3, loadMs: 1_500, downMs: 700, libraryLoops: 4, httpLoops: 3, restMs: 2 },
  long: { cycles: 30, loadMs: 3_000, downMs: 1_000, libraryLoops: 8, httpLoops: 4, restMs: 1 },
};

export function redisKill(context: ScenarioContext): Promise<ScenarioResult> {
  const size = REDIS_KILL_SIZES[context.form];
  return runUnderLoad(context, {
    name: "redis-kill",
    title: "`kill -9` of redis-server under load, restarted from its AOF",
    faultName: "kill -9 of redis-server",
    redis: { aof: true },
    ...size,
    async inject(redis) {
      await redis.kill();
      await sleep(size.downMs);
      // Resolves once the new server answers PING, its AOF loaded.
      await redis.restart();
    },
    notes: [
      `Redis killed with SIGKILL, left down ${size.downMs} ms, restarted on the same port from the same directory ` +
        "(AOF on, appendfsync always); the fault lasts until the new server answers PING.",
    ],
  });
}
