#!/usr/bin/env node
/**
 * `with-redis <command...>`: finds Redis the way the main job should
 * (resolveRedis: REDIS_URL, else 127.0.0.1:6379, else a private redis-server
 * with its data under ./.data), runs the command with REDIS_URL set, passes
 * SIGINT/SIGTERM on, and stops a private Redis when the command ends.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { NoRedisError, resolveRedis } from "../resolve-redis.js";

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error("usage: with-redis <command> [args...]");
  process.exit(64);
}

let redis: Awaited<ReturnType<typeof resolveRedis>>;
try {
  redis = await resolveRedis({ dataDir: resolve(".data") });
} catch (error) {
  console.error(error instanceof NoRedisError ? error.message : error);
  process.exit(69);
}
const where = { REDIS_URL: "from REDIS_URL", local: "already running", private: "started here, data in .data/redis" };
console.log(`with-redis: Redis at ${redis.url} (${where[redis.source]})`);

const child = spawn(command[0] as string, command.slice(1), {
  stdio: "inherit",
  env: { ...process.env, REDIS_URL: redis.url },
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", async (code, signal) => {
  await redis.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
