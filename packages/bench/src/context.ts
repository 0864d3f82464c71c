/**
 * The clients every suite shares, on the bench's private redis-server. Every
 * system gets one connection: ioredis for session-core and the raw baselines,
 * with session-core's SESSION_CONNECTION_OPTIONS (every plain command
 * auto-pipelined; only scripts, which the baselines never send, go as they
 * come), and node-redis (its only supported client) for connect-redis.
 */
import {
  CLEANUP_QUEUE_NAME,
  SESSION_CONNECTION_OPTIONS,
  SessionStore,
  type SessionStoreOptions,
} from "@multisession/session-core";
import { Queue } from "bullmq";
import { RedisStore } from "connect-redis";
import { Redis } from "ioredis";
import { createClient, type RedisClientType } from "redis";
import type { Sizes } from "./modes.js";
import type { Progress } from "./progress.js";

/**
 * How the bench runs Redis: as docker-compose.yml runs it, without persistence. A user's hash holds
 * records of about 350 bytes; above 64 (Redis's default hash-max-listpack-value) a hash leaves the
 * compact listpack encoding, so production raises it (see docs/benchmarks.md for what it buys).
 * The cluster suite's nodes run with the same arguments.
 */
export const REDIS_ARGS: string[] = ["--hash-max-listpack-value", "1024"];

export interface BenchContext {
  url: string;
  sizes: Sizes;
  progress: Progress;
  /** Session data connection, as an API server would have it (SESSION_CONNECTION_OPTIONS). */
  redis: Redis;
  /** BullMQ connection (no auto-pipelining, maxRetriesPerRequest: null). */
  queueConnection: Redis;
  queue: Queue;
  nodeRedis: RedisClientType;
  connectRedis: RedisStore;
  store(options?: Partial<SessionStoreOptions>): SessionStore;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function openContext(url: string, sizes: Sizes, progress: Progress): Promise<BenchContext> {
  const redis = new Redis(url, { ...SESSION_CONNECTION_OPTIONS });
  const queueConnection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection });
  const nodeRedis = createClient({ url }) as RedisClientType;
  await nodeRedis.connect();
  const connectRedis = new RedisStore({ client: nodeRedis, prefix: "sess:" });
  return {
    url,
    sizes,
    progress,
    redis,
    queueConnection,
    queue,
    nodeRedis,
    connectRedis,
    store: (options = {}) => new SessionStore({ redis, queue, ...options }),
    // On the BullMQ connection, which has no command timeout: emptying a million keys can take seconds.
    flush: async () => {
      await queueConnection.flushall();
    },
    async close() {
      await queue.close();
      await Promise.all([redis.quit(), queueConnection.quit(), nodeRedis.quit()]);
    },
  };
}

/** Runs `make(i)` for i in [0, count) with `concurrency` in flight. */
export async function seed(count: number, make: (i: number) => Promise<unknown>, concurrency = 256): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await make(next++);
    }),
  );
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}
