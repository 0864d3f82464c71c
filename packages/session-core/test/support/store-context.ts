/**
 * A SessionStore on the suite's private Redis, under a prefix of its own, with
 * its own BullMQ queue prefix, so tests never see each other's keys or jobs.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { inject } from "vitest";
import { CLEANUP_QUEUE_NAME, type SessionLogger, SessionStore, type SessionStoreOptions } from "../../src/index.js";

let counter = 0;

export interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

export interface StoreContext {
  store: SessionStore;
  redis: Redis;
  queue: Queue;
  prefix: string;
  logs: LogLine[];
  /** Another store on its own connection, same prefix and queue: a second API server. */
  another(options?: Partial<SessionStoreOptions>): SessionStore;
  close(): Promise<void>;
}

export function redisUrl(): string {
  return inject("redisUrl");
}

export function newRedis(): Redis {
  return new Redis(redisUrl(), { lazyConnect: false });
}

export async function openStore(options: Partial<SessionStoreOptions> = {}): Promise<StoreContext> {
  const id = `${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `test-${id}:`;
  const logs: LogLine[] = [];
  const logger: SessionLogger = {
    debug: (obj, msg) => logs.push({ level: "debug", obj, msg }),
    info: (obj, msg) => logs.push({ level: "info", obj, msg }),
    warn: (obj, msg) => logs.push({ level: "warn", obj, msg }),
    error: (obj, msg) => logs.push({ level: "error", obj, msg }),
  };
  const redis = newRedis();
  const queueConnection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: `bull-${id}` });
  const extra: Redis[] = [];
  const store = new SessionStore({ redis, queue, prefix, logger, ...options });
  return {
    store,
    redis,
    queue,
    prefix,
    logs,
    another(more = {}) {
      const client = newRedis();
      extra.push(client);
      return new SessionStore({ redis: client, queue, prefix, logger, ...options, ...more });
    },
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await queueConnection.quit();
      await Promise.all([redis, ...extra].map((client) => client.quit()));
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
