/**
 * A redis-server of the test file's own, and SessionStores on it under fresh
 * key prefixes (one per property run if the test likes), each with its own
 * BullMQ queue prefix, so runs never see each other's keys or jobs.
 */
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import {
  CLEANUP_QUEUE_NAME,
  ERROR_CODES,
  SessionError,
  SessionStore,
  type SessionStoreOptions,
} from "@multisession/session-core";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

export interface AttackRedis {
  readonly server: RedisServer;
  /** A plain connection for planting and reading the truth. */
  readonly redis: Redis;
  readonly queue: Queue;
  /** A store under a prefix nobody else uses (or `prefix`, to share one), on a shared connection unless `redis` is given. */
  newStore(options?: Partial<SessionStoreOptions>): { store: SessionStore; prefix: string };
  /** A new connection of its own (another API server), closed by `close`. */
  connection(): Redis;
  close(): Promise<void>;
}

let counter = 0;

export async function startPrivateRedis(): Promise<AttackRedis> {
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const storeRedis = new Redis(server.url);
  const queueConnection = new Redis(server.url, { maxRetriesPerRequest: null });
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: `bull-attack-${process.pid}` });
  const extra: Redis[] = [];
  return {
    server,
    redis,
    queue,
    newStore(options = {}) {
      const prefix = options.prefix ?? `attack-${process.pid}-${++counter}:`;
      return { store: new SessionStore({ redis: storeRedis, queue, ...options, prefix }), prefix };
    },
    connection() {
      const client = new Redis(server.url);
      extra.push(client);
      return client;
    },
    async close() {
      for (const client of extra) client.disconnect();
      await queue.close();
      queueConnection.disconnect();
      storeRedis.disconnect();
      redis.disconnect();
      await server.stop();
    },
  };
}

const CODES = new Set<string>(Object.values(ERROR_CODES));

/**
 * What any call may end in: a result, or a SessionError with one of the
 * documented codes. Anything else (a TypeError, an ioredis ReplyError, a
 * string) is returned as a violation.
 */
export async function outcomeOf<T>(
  call: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof SessionError && CODES.has(error.code)) return { ok: false, code: error.code };
    throw new Error(`untyped failure: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, {
      cause: error,
    });
  }
}

/** Every key (all types) and every value in Redis, as one text, for scanning for secrets. */
export async function dumpRedis(redis: Redis): Promise<{ keys: number; text: string }> {
  const parts: string[] = [];
  let keys = 0;
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "COUNT", "1000");
    cursor = next;
    for (const key of batch) {
      keys++;
      parts.push(key);
      const type = await redis.type(key);
      if (type === "string") parts.push((await redis.get(key)) ?? "");
      else if (type === "hash") parts.push(...Object.entries(await redis.hgetall(key)).flat());
      else if (type === "zset") parts.push(...(await redis.zrange(key, "0", "-1", "WITHSCORES")));
      else if (type === "set") parts.push(...(await redis.smembers(key)));
      else if (type === "list") parts.push(...(await redis.lrange(key, 0, -1)));
      else if (type === "stream") parts.push(JSON.stringify(await redis.xrange(key, "-", "+")));
      else if (type !== "none") parts.push(`<unread type ${type}>`);
    }
  } while (cursor !== "0");
  return { keys, text: parts.join("\n") };
}

/** The secrets (and tokens) in `candidates` that appear anywhere in `text`. */
export function leaked(text: string, candidates: Iterable<string>): string[] {
  return [...candidates].filter((secret) => text.includes(secret));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
