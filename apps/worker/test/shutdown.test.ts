import { startRedisServer } from "@multisession/redis-server";
import { DELETE_EXPIRED_SESSION_JOB, sessionKeyOf, userKey } from "@multisession/session-core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, spawnWorker, startWorker } from "./support/worker.js";

const JOBS = 5_000;
let side: SessionSide;
const sessions: { userId: string; sessionId: string }[] = [];

beforeAll(async () => {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 });
  for (let start = 0; start < JOBS; start += 500) {
    const batch = await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        const userId = `s-${start + i}`;
        return { userId, sessionId: (await side.store.create(userId)).sessionId };
      }),
    );
    sessions.push(...batch);
  }
  await sleep(350);
  // Deletion jobs as expired reads would enqueue them, waiting for a worker.
  await side.queue.addBulk(
    sessions.map(({ userId, sessionId }) => ({
      name: DELETE_EXPIRED_SESSION_JOB,
      data: { userId, sessionKey: sessionKeyOf(sessionId), expiresAt: Date.now() },
    })),
  );
});
afterAll(() => side.close());

describe("shutdown", () => {
  it("SIGTERM while jobs run: exits 0 with every job done or left to retry, none lost", async () => {
    const worker = await startWorker({ ...side.workerEnv, CONCURRENCY: "50", SWEEP_CRON: "0 0 1 1 *" });
    await eventually(async () => ((await side.queue.getJobCounts()).completed ?? 0) > 100, 20_000, 5);
    const code = await worker.stop("SIGTERM");
    expect(code).toBe(0);
    const steps = worker.logs.map((line) => line.msg);
    expect(steps).toContain("shutting down");
    expect(steps.at(-1)).toBe("shutdown complete");

    const counts = await side.queue.getJobCounts();
    expect(counts.failed).toBe(0);
    expect(counts.active).toBe(0); // nothing left holding a lock
    expect((counts.completed ?? 0) + (counts.waiting ?? 0)).toBe(JOBS);
    expect(counts.waiting).toBeGreaterThan(0); // it really stopped mid-queue

    // A new replica picks up what is left; every session ends up deleted.
    const next = await startWorker({ ...side.workerEnv, CONCURRENCY: "50", SWEEP_CRON: "0 0 1 1 *" });
    await eventually(async () => (await side.queue.getJobCounts()).completed === JOBS, 30_000);
    const pipeline = side.redis.pipeline();
    for (const { userId } of sessions) pipeline.exists(userKey(side.prefix, userId));
    expect((await pipeline.exec())?.every(([, exists]) => exists === 0)).toBe(true);
    expect(await next.stop("SIGINT")).toBe(0);
  });

  it("a second signal exits at once, even while the first shutdown is stuck", async () => {
    // A private Redis we can freeze, so that the first shutdown cannot finish on its own.
    const frozen = await startRedisServer({ args: ["--enable-debug-command", "yes"] });
    const admin = new Redis(frozen.url);
    try {
      const worker = spawnWorker({ REDIS_URL: frozen.url, SWEEP_CRON: "0 0 1 1 *", SHUTDOWN_TIMEOUT_MS: "60000" });
      await worker.waitForLog((line) => line.msg === "worker started");
      void admin.debug("SLEEP", "5").catch(() => {});
      await sleep(100);
      worker.child.kill("SIGTERM");
      await worker.waitForLog((line) => line.msg === "shutting down");
      const secondAt = Date.now();
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(1);
      expect(Date.now() - secondAt).toBeLessThan(3_000);
      expect(worker.logs.map((line) => line.msg)).toContain("second signal: exiting now");
      expect(worker.logs.map((line) => line.msg)).not.toContain("shutdown complete");
    } finally {
      admin.disconnect();
      await frozen.stop();
    }
  });
});
