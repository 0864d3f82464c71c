/**
 * The `multisession-worker` bin as npm installs it: the file package.json's
 * `bin` names, started as a real child process on a private redis-server,
 * deletes an expired read's session, answers /healthz and closes on SIGTERM.
 */
import { readFileSync } from "node:fs";
import { SessionExpiredError, sessionKeyOf, userKey } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson, startWorker, WORKER_MAIN, type WorkerProcess } from "./support/worker.js";

let side: SessionSide;
let worker: WorkerProcess | undefined;
beforeAll(() => {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 });
});
afterAll(async () => {
  if (worker && worker.child.exitCode === null) await worker.stop("SIGKILL");
  await side.close();
});

describe("the multisession-worker bin", () => {
  it("is an ESM file with a node shebang, outside the CommonJS build", () => {
    expect(WORKER_MAIN).toMatch(/[/\\]dist[/\\]esm[/\\]main\.js$/);
    expect(readFileSync(WORKER_MAIN, "utf8").split("\n", 1)[0]).toBe("#!/usr/bin/env node");
  });

  it("started from its bin path: deletes an expired session's job, answers /healthz, exits 0 on SIGTERM", async () => {
    worker = await startWorker({ ...side.workerEnv, SWEEP_CRON: "0 0 1 1 *" });
    expect(await getJson(worker.url("/healthz"))).toEqual({ status: 200, body: { status: "ok" } });

    const { sessionId } = await side.store.create("bin-user");
    await sleep(350);
    await expect(side.store.get("bin-user", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    const key = userKey(side.prefix, "bin-user");
    await eventually(async () => (await side.redis.hexists(key, sessionKeyOf(sessionId))) === 0, 20_000);
    await eventually(async () => (await side.queue.getJobCounts()).completed === 1, 20_000);

    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(worker.logs.at(-1)?.msg).toBe("shutdown complete");
  });
});
