/**
 * The API alone (no worker), as a real child process with the environment
 * given, on a private redis-server of the test file's own, which the test
 * may freeze (SIGSTOP), stop and restart on the same port without touching
 * the suite's shared server.
 */
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { type ServiceProcess, startService } from "@multisession/test-kit";

const API_MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

export interface ApiOnPrivateRedis {
  readonly api: ServiceProcess;
  /** The current server; replaced by `restartRedis`. */
  readonly redis: RedisServer;
  /** Stops the server (if it runs) and starts a fresh one on the same port. */
  restartRedis(): Promise<void>;
  close(): Promise<void>;
}

export async function startApiOnPrivateRedis(env: Record<string, string> = {}): Promise<ApiOnPrivateRedis> {
  let redis = await startRedisServer();
  const api = await startService(API_MAIN, { ...env, REDIS_URL: redis.url }, "api started");
  return {
    api,
    get redis() {
      return redis;
    },
    async restartRedis() {
      const port = redis.port;
      await redis.stop();
      redis = await startRedisServer({ port });
    },
    async close() {
      await api.stop();
      try {
        process.kill(redis.pid, "SIGCONT");
      } catch {
        // already gone
      }
      await redis.stop();
    },
  };
}
