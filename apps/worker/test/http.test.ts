import { join } from "node:path";
import { DELETE_EXPIRED_SESSION_JOB } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { openSessionSide, type SessionSide } from "./support/sessions.js";
import {
  eventually,
  getJson,
  launchChromium,
  SCREENSHOT_DIR,
  startWorker,
  type WorkerProcess,
} from "./support/worker.js";

const USER = "ops";
const PASSWORD = "correct horse battery";
let side: SessionSide;
let worker: WorkerProcess;

beforeAll(async () => {
  side = openSessionSide(inject("redisUrl"));
  worker = await startWorker({
    ...side.workerEnv,
    SWEEP_CRON: "0 0 1 1 *",
    DASHBOARD_USER: USER,
    DASHBOARD_PASSWORD: PASSWORD,
  });
});
afterAll(async () => {
  await worker.stop();
  await side.close();
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("health", () => {
  it("/healthz says the process is alive and /readyz that every connection and the consumer are up", async () => {
    expect(await getJson(worker.url("/healthz"))).toEqual({ status: 200, body: { status: "ok" } });
    // Ready once BullMQ's own connection is up too, a moment after start.
    await eventually(async () => (await getJson(worker.url("/readyz"))).status === 200, 10_000);
    expect(await getJson(worker.url("/readyz"))).toEqual({
      status: 200,
      body: {
        status: "ready",
        sessionsConnection: true,
        queueConnection: true,
        workerConnection: true,
        consumer: true,
      },
    });
  });

  it("/metrics speaks the Prometheus text format", async () => {
    const response = await fetch(worker.url("/metrics"));
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      "multisession_cleanup_queue_jobs",
      "multisession_cleanup_jobs_total",
      "multisession_sweeper_runs_total",
      "multisession_sweeper_users_scanned_total",
      "multisession_sweeper_sessions_deleted_total",
      "multisession_sweeper_hashes_deleted_total",
      "multisession_sweeper_groups_swept_total",
      "multisession_sweeper_last_groups_swept",
      "multisession_sweeper_last_duration_seconds",
      "multisession_sweeper_last_run_timestamp_seconds",
      "multisession_sweeper_lease_held",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });
});

describe("the queue dashboard", () => {
  it("answers 401 without credentials or with wrong ones", async () => {
    const none = await fetch(worker.url("/admin/queues"));
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    for (const header of [basic(USER, "wrong password"), basic("admin", PASSWORD), "Bearer x", "Basic !!!"]) {
      expect((await fetch(worker.url("/admin/queues"), { headers: { authorization: header } })).status).toBe(401);
    }
    const api = await fetch(worker.url("/admin/queues/api/queues"));
    expect(api.status).toBe(401);
  });

  it("renders the session-cleanup queue in headless Chromium with credentials", async () => {
    await side.queue.add(DELETE_EXPIRED_SESSION_JOB, { userId: "nobody", sessionKey: "A".repeat(43), expiresAt: 0 });
    await eventually(async () => (await side.queue.getJobCounts()).completed === 1);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
      const page = await context.newPage();
      const response = await page.goto(worker.url("/admin/queues"));
      expect(response?.status()).toBe(200);
      await page.getByText("session-cleanup").first().waitFor({ timeout: 15_000 });
      await page.screenshot({ path: join(SCREENSHOT_DIR, "worker-dashboard.png"), fullPage: true });
      expect(await page.title()).toMatch(/multisession/i);
    } finally {
      await browser.close();
    }
  });

  it("answers a failure inside Redis without Redis's text, a script SHA or Lua; the log line has them", async () => {
    // A foreign writer's string where the queue keeps its completed jobs: BullMQ's count script fails inside Redis.
    const completed = `${side.workerEnv.QUEUE_PREFIX}:${side.queue.name}:completed`;
    await side.redis.del(completed);
    await side.redis.set(completed, "not a sorted set");
    try {
      const response = await fetch(worker.url("/admin/queues/api/queues"), {
        headers: { authorization: basic(USER, PASSWORD) },
      });
      const text = await response.text();
      expect(response.status).toBe(500);
      expect(text).not.toMatch(/redis|WRONGTYPE|ERR |script|lua|[0-9a-f]{40}/i);
      expect(JSON.parse(text)).toMatchObject({ error: { code: "ERR_INTERNAL", message: "internal error" } });
      const logged = await worker.waitForLog(
        (line) => line.msg === "dashboard request failed" && JSON.stringify(line).includes("WRONGTYPE"),
      );
      expect(logged.reqId).toEqual(expect.any(String));
    } finally {
      await side.redis.del(completed);
    }
  });

  it("is off, never open, when no credentials are configured", async () => {
    const plain = await startWorker({ ...side.workerEnv, SWEEP_CRON: "0 0 1 1 *" });
    try {
      expect((await fetch(plain.url("/admin/queues"))).status).toBe(404);
      expect((await fetch(plain.url("/admin/queues/api/queues"))).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
