/** Every scenario, in the order the runner runs them. */
import type { Scenario } from "../scenario.js";
import { lostReply } from "./lost-reply.js";
import { redisFull } from "./redis-full.js";
import { redisKill } from "./redis-kill.js";
import { redisPaused } from "./redis-paused.js";
import { workerKill } from "./worker-kill.js";

export const SCENARIOS: Record<string, Scenario> = {
  "redis-kill": redisKill,
  "worker-kill": workerKill,
  "redis-paused": redisPaused,
  "redis-full": redisFull,
  "lost-reply": lostReply,
};
