import { afterEach, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson, startWorker, type WorkerProcess } from "./support/worker.js";

// Sweeps slowed down on purpose (one user a step, resting 19 times as long as each step took), so
// that a signal reliably lands mid-sweep.
const USERS = 1_000;
let side: SessionSide;
const workers: WorkerProcess[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop("SIGKILL")));
  await side?.close();
});

async function seedDueUsers(): Promise<Record<string, string>> {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 });
  for (let start = 0; start < USERS; start += 250) {
    await Promise.all(Array.from({ length: 250 }, (_, i) => side.store.create(`due-${start + i}`)));
  }
  await sleep(350);
  return {
    ...side.workerEnv,
    SWEEP_CRON: "* * * * * *",
    SWEEP_BATCH_SIZE: "1",
    SWEEP_DUTY_PERCENT: "5",
    SWEEP_LEASE_MS: "2000",
    // Two groups, so the killed replica's group is one of few for the next replica to come back to.
    SWEEP_SLOT_GROUPS: "2",
  };
}

async function sweeping(worker: WorkerProcess): Promise<void> {
  await eventually(async () => {
    const { body } = await getJson(worker.url("/stats"));
    return (body.sweeper as { leaseHeld: boolean }).leaseHeld;
  }, 20_000);
  await sleep(500);
}

describe("sweeps that do not finish", () => {
  it("a sweep interrupted by shutdown logs one warn line with its progress and why it stopped", async () => {
    const worker = await startWorker(await seedDueUsers());
    workers.push(worker);
    await sweeping(worker);
    expect(await worker.stop("SIGTERM")).toBe(0);
    const interrupted = worker.logs.filter((line) => line.msg === "sweep interrupted by shutdown");
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]).toMatchObject({ level: 40, reason: expect.stringMatching(/^shutdown/) });
    expect(Number(interrupted[0]?.usersScanned)).toBeGreaterThan(0);
    expect(Number(interrupted[0]?.usersScanned)).toBeLessThan(USERS);
  });

  it("a sweep killed with SIGKILL is reported by the next sweep, on another replica", async () => {
    const env = await seedDueUsers();
    const killed = await startWorker(env);
    workers.push(killed);
    await sweeping(killed);
    const killedAt = Date.now();
    await killed.stop("SIGKILL");

    // The next replica's walks end after a second (its budget), so however slow its steps on a loaded
    // machine, a tick soon after the killed replica's lease expired takes that group and reports the mark.
    const next = await startWorker({ ...env, SWEEP_BUDGET_MS: "1000" });
    workers.push(next);
    const report = await next.waitForLog((line) => line.msg === "previous sweep did not finish", 20_000);
    expect(report.level).toBe(40);
    expect(report.group).toEqual(expect.any(Number));
    expect(String(report.holder)).toMatch(new RegExp(`:${killed.child.pid}$`));
    expect(Date.parse(String(report.startedAt))).toBeLessThan(killedAt);
    expect(Date.parse(String(report.startedAt))).toBeGreaterThan(killedAt - 30_000);
    // Reported once: the sweep that reported it cleared the mark when it ended (or holds it now).
    await sleep(2_500);
    expect(next.logs.filter((line) => line.msg === "previous sweep did not finish")).toHaveLength(1);
  });
});
