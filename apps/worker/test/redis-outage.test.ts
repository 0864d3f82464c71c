import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { DELETE_EXPIRED_SESSION_JOB, sessionKeyOf, userKey } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson, startWorker, type WorkerProcess } from "./support/worker.js";

// This file stops and restarts Redis, so it runs a server of its own (with AOF, so data survives).
let dir: string;
let redis: RedisServer;
let side: SessionSide;
let worker: WorkerProcess;
const ALL_UP = {
  status: "ready",
  sessionsConnection: true,
  queueConnection: true,
  workerConnection: true,
  consumer: true,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ms-outage-"));
  redis = await startRedisServer({ dir });
  side = openSessionSide(redis.url, { idleTimeoutMs: 300, touchIntervalMs: 0 });
  worker = await startWorker({ ...side.workerEnv, SWEEP_CRON: "* * * * * *" });
});
afterAll(async () => {
  await worker.stop("SIGKILL");
  await side.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a Redis outage", () => {
  it("keeps the worker up and not ready while Redis is down, and it recovers by itself", async () => {
    // Ready once BullMQ's own connection is up too, a moment after start.
    await eventually(async () => (await getJson(worker.url("/readyz"))).status === 200, 10_000);
    expect(await getJson(worker.url("/readyz"))).toEqual({ status: 200, body: ALL_UP });
    await redis.stop();

    await eventually(async () => (await getJson(worker.url("/readyz"))).status === 503, 15_000);
    // Every connection the worker needs is checked and named; the consumer itself keeps running.
    await eventually(
      async () =>
        JSON.stringify((await getJson(worker.url("/readyz"))).body) ===
        JSON.stringify({
          status: "not ready",
          sessionsConnection: false,
          queueConnection: false,
          workerConnection: false,
          consumer: true,
        }),
      15_000,
    );
    expect((await getJson(worker.url("/healthz"))).status).toBe(200);
    await sleep(2_000); // sweeps fail and jobs cannot be fetched meanwhile; the process must stay up
    expect(worker.child.exitCode).toBeNull();
    expect((await getJson(worker.url("/stats"))).body).toMatchObject({ redisUp: false });

    redis = await startRedisServer({ dir, port: redis.port });
    await eventually(async () => (await getJson(worker.url("/readyz"))).status === 200, 30_000);
    expect((await getJson(worker.url("/readyz"))).body).toEqual(ALL_UP);

    // And it works again: the consumer takes jobs and the sweeper cleans expired sessions.
    await side.queue.add(DELETE_EXPIRED_SESSION_JOB, { userId: "nobody", sessionKey: "A".repeat(43), expiresAt: 0 });
    await eventually(async () => (await side.queue.getJobCounts()).completed === 1, 30_000);
    const { sessionId } = await side.store.create("after-outage");
    await eventually(
      async () => (await side.redis.hexists(userKey(side.prefix, "after-outage"), sessionKeyOf(sessionId))) === 0,
      30_000,
    );
    const sweeps = worker.logs.filter((line) => line.msg === "sweep finished");
    expect(Date.parse(String(sweeps.at(-1)?.tick))).toBeGreaterThan(Date.now() - 5_000);
  });

  it("answers /readyz within about a second while Redis is paused (503), and 200 once it resumes", async () => {
    await eventually(async () => (await getJson(worker.url("/readyz"))).status === 200, 30_000);
    process.kill(redis.pid, "SIGSTOP");
    try {
      for (let probe = 0; probe < 3; probe++) {
        const askedAt = Date.now();
        const { status, body } = await getJson(worker.url("/readyz"));
        expect(Date.now() - askedAt).toBeLessThan(2_500);
        expect(status).toBe(503);
        expect(body).toMatchObject({ sessionsConnection: false, queueConnection: false });
      }
    } finally {
      process.kill(redis.pid, "SIGCONT");
    }
    await eventually(async () => (await getJson(worker.url("/readyz"))).status === 200, 10_000);
  });
});
