/**
 * redis-paused: redis-server frozen with SIGSTOP for a few seconds under
 * load, then SIGCONT, cycle after cycle (under-load.ts). A frozen Redis
 * accepts connections and reads nothing: only the client's command timeout
 * bounds a call. Writes that timed out may still run when Redis wakes up;
 * the ledger counts them as unknown, never as acknowledged.
 */
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import { sleep } from "../stack.js";
import { runUnderLoad } from "../under-load.js";

export const REDIS_PAUSED_SIZES = {
  short: { cycles: 2, loadMs: 1_500, pauseMs: 3_000, libraryLoops: 4, httpLoops: 3, restMs: 2 },
  long: { cycles: 10, loadMs: 3_000, pauseMs: 5_000, libraryLoops: 8, httpLoops: 4, restMs: 1 },
};

export function redisPaused(context: ScenarioContext): Promise<ScenarioResult> {
  const size = REDIS_PAUSED_SIZES[context.form];
  return runUnderLoad(context, {
    name: "redis-paused",
    title: "Redis paused (SIGSTOP) under load, then resumed (SIGCONT)",
    faultName: `SIGSTOP of redis-server for ${size.pauseMs / 1000} s`,
    redis: {},
    ...size,
    async inject(redis) {
      redis.pause();
      try {
        await sleep(size.pauseMs);
      } finally {
        redis.resume();
      }
    },
    notes: [`Redis frozen with SIGSTOP for ${size.pauseMs} ms, then SIGCONT.`],
  });
}
