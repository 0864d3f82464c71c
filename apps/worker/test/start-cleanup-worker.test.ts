/**
 * startCleanupWorker: the worker inside the caller's process. On the caller's
 * connections it works like the bin and closes only what it made; on a URL
 * it makes its own connections and closes them all; bad options throw
 * InvalidOptionError naming the option before anything connects.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import {
  CLEANUP_QUEUE_NAME,
  InvalidOptionError,
  SESSION_CONNECTION_OPTIONS,
  SessionExpiredError,
  sessionKeyOf,
  userKey,
} from "@multisession/session-core";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { startCleanupWorker } from "../src/index.js";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson } from "./support/worker.js";

const logger = pino({ level: "silent" });
const NEVER = "0 0 1 1 *";

let side: SessionSide;
beforeEach(() => {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 });
});
afterEach(() => side.close());

/** An expired read, and the wait for its job to delete the session. */
async function expiredReadIsCleaned(userId: string): Promise<void> {
  const { sessionId } = await side.store.create(userId);
  await sleep(350);
  await expect(side.store.get(userId, sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
  const key = userKey(side.prefix, userId);
  await eventually(async () => (await side.redis.hexists(key, sessionKeyOf(sessionId))) === 0, 20_000);
}

describe("startCleanupWorker on the caller's connections", () => {
  it("deletes an expired read's session, answers /healthz, and closes leaving the caller's clients open", async () => {
    const worker = await startCleanupWorker({
      redis: side.redis,
      queue: side.queue,
      sessionPrefix: side.prefix,
      logger,
      sweep: { cron: NEVER },
      http: { port: 0 },
    });
    expect(worker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await getJson(`${worker.url}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    await eventually(async () => (await worker.readiness()).ready, 10_000);
    await expiredReadIsCleaned("in-process");
    await eventually(async () => (await side.queue.getJobCounts()).completed === 1);

    expect(await worker.close()).toBe(true);
    // A second close is the first one.
    expect(await worker.close()).toBe(true);
    await expect(fetch(`${worker.url}/healthz`)).rejects.toThrow();
    // What the caller passed in still works: its client, and its queue (on its own connection).
    expect(await side.redis.ping()).toBe("PONG");
    expect(side.redis.status).toBe("ready");
    expect(await side.queue.getJobCounts("completed")).toEqual({ completed: 1 });
  });

  it("sweeps on demand through the same leases, without an HTTP server", async () => {
    const worker = await startCleanupWorker({
      redis: side.redis,
      queuePrefix: side.queuePrefix,
      sessionPrefix: side.prefix,
      logger,
      sweep: { cron: NEVER, slotGroups: 4 },
    });
    try {
      expect(worker.url).toBeNull();
      // Never read, so no job: only the sweep can delete them.
      await Promise.all(["swept-1", "swept-2", "swept-3"].map((userId) => side.store.create(userId)));
      await sleep(350);
      const summary = await worker.sweep();
      expect(summary).toMatchObject({ sessionsDeleted: 3, hashesDeleted: 3, groupsSwept: 4 });
      for (const userId of ["swept-1", "swept-2", "swept-3"]) {
        expect(await side.redis.exists(userKey(side.prefix, userId))).toBe(0);
      }
    } finally {
      expect(await worker.close()).toBe(true);
    }
    expect(side.redis.status).toBe("ready");
  });
});

describe("startCleanupWorker on a client made with SESSION_CONNECTION_OPTIONS", () => {
  it("gives BullMQ a duplicate without the session bounds: its blocking reads outlast the 1 s command timeout", async () => {
    const redis = new Redis(inject("redisUrl"), { ...SESSION_CONNECTION_OPTIONS });
    const lines: { level: number; msg: string }[] = [];
    const captured = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const worker = await startCleanupWorker({
      redis,
      queue: side.queue,
      sessionPrefix: side.prefix,
      logger: captured,
      sweep: { cron: NEVER },
    });
    try {
      await eventually(async () => (await worker.readiness()).ready, 10_000);
      // Idle: BullMQ's blocking read for the next job waits longer than SESSION_CONNECTION_OPTIONS' 1 s.
      await sleep(3_000);
      await expiredReadIsCleaned("bounded-client");
      expect((await worker.readiness()).ready).toBe(true);
      expect(lines.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual([]);
    } finally {
      expect(await worker.close()).toBe(true);
      await redis.quit();
    }
  });
});

describe("startCleanupWorker on a URL", () => {
  let redis: RedisServer;
  let admin: Redis;
  beforeEach(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url);
  });
  afterEach(async () => {
    admin.disconnect();
    await redis.stop();
  });

  /** Clients connected to the private server, the admin connection aside. */
  const clients = async () =>
    ((await admin.client("LIST")) as string).split("\n").filter((line) => line.includes("addr=")).length - 1;

  it("makes its own connections, works, and closes every one of them", async () => {
    const api = openSessionSide(redis.url, { idleTimeoutMs: 300, touchIntervalMs: 0 });
    try {
      await api.redis.ping();
      await api.queue.waitUntilReady();
      const before = await clients();
      const worker = await startCleanupWorker({
        redis: redis.url,
        sessionPrefix: api.prefix,
        queuePrefix: api.queuePrefix,
        logger,
        sweep: { cron: NEVER },
        http: { port: 0 },
      });
      await eventually(async () => (await worker.readiness()).ready, 10_000);
      expect(await clients()).toBeGreaterThan(before);

      const { sessionId } = await api.store.create("url-user");
      await sleep(350);
      await expect(api.store.get("url-user", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
      await eventually(async () => (await api.redis.exists(userKey(api.prefix, "url-user"))) === 0, 20_000);

      expect(await worker.close()).toBe(true);
      await eventually(async () => (await clients()) === before, 5_000);
      expect(await api.redis.ping()).toBe("PONG");
    } finally {
      await api.close();
    }
  });
});

describe("startCleanupWorker's options", () => {
  const base = () => ({ redis: side.redis, logger, sessionPrefix: side.prefix, queuePrefix: side.queuePrefix });

  it.each([
    ["concurrency", { concurrency: 0 }],
    ["sweep.cron", { sweep: { cron: "every minute" } }],
    ["sweep.slotGroups", { sweep: { slotGroups: 1.5 } }],
    ["http.port", { http: { port: 70_000 } }],
    ["http.dashboard.password", { http: { port: 0, dashboard: { user: "ops", password: "short" } } }],
    ["redis", { redis: "http://127.0.0.1:1" }],
    ["queueConnection", { queueConnection: {} }],
  ])("a bad %s is refused, naming it, before anything starts", async (option, bad) => {
    const error = await startCleanupWorker({ ...base(), ...bad } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: "ERR_INVALID_OPTION", option });
    expect((error as Error).message).toContain(`options.${option}`);
    if (option === "http.dashboard.password") expect((error as Error).message).not.toContain("short");
  });

  it("a URL that names a node of a Redis Cluster is refused, and nothing is left connected", async () => {
    // Its nodes.conf in a directory of its own, not in the working directory.
    const dir = mkdtempSync(join(tmpdir(), "worker-cluster-node-"));
    const node = await startRedisServer({ args: ["--cluster-enabled", "yes", "--dir", dir] });
    const admin = new Redis(node.url);
    try {
      const error = await startCleanupWorker({ redis: node.url, logger }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "ERR_INVALID_OPTION", option: "redis" });
      await eventually(async () => ((await admin.client("LIST")) as string).trim().split("\n").length === 1, 5_000);
    } finally {
      admin.disconnect();
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes the queue's own prefix when given the caller's queue", async () => {
    const connection = side.redis.duplicate({ maxRetriesPerRequest: null });
    const queue = new Queue(CLEANUP_QUEUE_NAME, { connection, prefix: side.queuePrefix });
    const worker = await startCleanupWorker({
      redis: side.redis,
      queue,
      queuePrefix: "ignored",
      sessionPrefix: side.prefix,
      logger,
      sweep: { cron: NEVER },
    });
    try {
      await expiredReadIsCleaned("queue-prefix");
    } finally {
      expect(await worker.close()).toBe(true);
      await queue.close();
      await connection.quit();
    }
  });
});
