/**
 * The API-server side of worker tests: a SessionStore and a queue producer on
 * the test's Redis, under a namespace of the test's own that the worker is
 * told about through SESSION_PREFIX and QUEUE_PREFIX.
 */
import { CLEANUP_QUEUE_NAME, SessionStore, type SessionStoreOptions } from "@multisession/session-core";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

let counter = 0;

export interface SessionSide {
  store: SessionStore;
  redis: Redis;
  queue: Queue;
  prefix: string;
  queuePrefix: string;
  /** The environment a worker needs to share this namespace. */
  workerEnv: Record<string, string>;
  storeWith(options: Partial<SessionStoreOptions>): SessionStore;
  close(): Promise<void>;
}

export function openSessionSide(redisUrl: string, options: Partial<SessionStoreOptions> = {}): SessionSide {
  const id = `${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `wt-${id}:`;
  const queuePrefix = `bull-${id}`;
  const redis = new Redis(redisUrl, { enableAutoPipelining: true });
  const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: queuePrefix });
  // Some tests stop Redis on purpose; the clients reconnect, and their errors are expected.
  for (const emitter of [redis, queueConnection, queue]) emitter.on("error", () => {});
  const storeWith = (more: Partial<SessionStoreOptions>) =>
    new SessionStore({ redis, queue, prefix, ...options, ...more });
  return {
    store: storeWith({}),
    redis,
    queue,
    prefix,
    queuePrefix,
    workerEnv: { REDIS_URL: redisUrl, SESSION_PREFIX: prefix, QUEUE_PREFIX: queuePrefix },
    storeWith,
    async close() {
      await queue.close().catch(() => {});
      queueConnection.disconnect();
      redis.disconnect();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
