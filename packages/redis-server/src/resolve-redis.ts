/**
 * Finds the Redis the local main job should use, in this order:
 * `REDIS_URL` if set; else 127.0.0.1:6379 if it answers; else a private
 * `redis-server` from the PATH keeping its data under `dataDir`; else an
 * error that says how to get one.
 */
import { join } from "node:path";
import { pingRedis } from "./ping.js";
import { startRedisServer } from "./start-redis-server.js";

export interface ResolvedRedis {
  url: string;
  source: "REDIS_URL" | "local" | "private";
  /** Stops the private server; a no-op for a Redis we did not start. */
  stop(): Promise<void>;
}

export class NoRedisError extends Error {
  override name = "NoRedisError";
}

export interface ResolveRedisOptions {
  /** Where a private server keeps its append-only file (under `<dataDir>/redis`). */
  dataDir: string;
  /** REDIS_URL and PATH are read from here. */
  env?: NodeJS.ProcessEnv;
  /** The local Redis to try before starting one; 6379 unless a test says otherwise. */
  localPort?: number;
  /** Start a private server in its own process group (see RedisServerOptions.detached). */
  detached?: boolean;
}

export async function resolveRedis(options: ResolveRedisOptions): Promise<ResolvedRedis> {
  const env = options.env ?? process.env;
  const fromEnv = env.REDIS_URL?.trim();
  if (fromEnv) return { url: fromEnv, source: "REDIS_URL", stop: async () => {} };

  const localPort = options.localPort ?? 6379;
  if (await pingRedis("127.0.0.1", localPort)) {
    return { url: `redis://127.0.0.1:${localPort}`, source: "local", stop: async () => {} };
  }

  try {
    // As production runs it (docker-compose.yml): users' hashes of ~350-byte records stay compact.
    const server = await startRedisServer({
      dir: join(options.dataDir, "redis"),
      env,
      args: ["--hash-max-listpack-value", "1024"],
      detached: options.detached,
    });
    return { url: server.url, source: "private", stop: () => server.stop() };
  } catch (error) {
    throw new NoRedisError(
      "No Redis found: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, and " +
        `redis-server could not be started from the PATH (${(error as Error).message}). ` +
        "Install Redis 7 (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) " +
        "or set REDIS_URL=redis://host:port.",
    );
  }
}
