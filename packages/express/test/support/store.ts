/**
 * A SessionStore on the run's private redis-server, under a key prefix and
 * a queue prefix of its own, so tests never see each other's sessions.
 */
import { CLEANUP_QUEUE_NAME, SessionStore, type SessionStoreOptions } from "@multisession/session-core";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { inject } from "vitest";

export interface TestStore {
  store: SessionStore;
  redis: Redis;
  close(): Promise<void>;
}

let counter = 0;

export function openStore(options: Partial<SessionStoreOptions> = {}): TestStore {
  const id = `${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: redis, prefix: `bull-${id}` });
  const store = new SessionStore({ redis, queue, prefix: `express-${id}:`, ...options });
  return {
    store,
    redis,
    async close() {
      await store.close();
      await queue.close();
      redis.disconnect();
    },
  };
}

export const CHROME_MAC =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
export const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
export const FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0";
