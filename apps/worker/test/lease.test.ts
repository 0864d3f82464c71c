/**
 * Two worker replicas as real processes on one namespace, sweeping every
 * second with the slots cut into 4 groups: they share each tick's groups,
 * never sweep a group twice in a tick, and a replica killed with SIGKILL
 * mid-group has that group taken over once its lease runs out.
 */
import { SLOT_COUNT } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson, type LogLine, startWorker, type WorkerProcess } from "./support/worker.js";

const LEASE_MS = 3_000;
const GROUPS = 4;
const ALL_SLOTS = Array.from({ length: SLOT_COUNT }, (_, slot) => slot);
let side: SessionSide;
let workers: WorkerProcess[];

beforeAll(async () => {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 });
  const env = {
    ...side.workerEnv,
    SWEEP_CRON: "* * * * * *",
    SWEEP_BATCH_SIZE: "10",
    SWEEP_LEASE_MS: String(LEASE_MS),
    SWEEP_SLOT_GROUPS: String(GROUPS),
  };
  workers = await Promise.all([startWorker(env), startWorker(env)]);
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
  await side.close();
});

const sweepsOf = (worker: WorkerProcess) => worker.logs.filter((line) => line.msg === "sweep finished");
const groupsOf = (line: LogLine) => line.groups as number[];

describe("two worker replicas", () => {
  it("share each tick's groups, each group swept at most once per tick between them", async () => {
    await eventually(() => workers.every((worker) => sweepsOf(worker).length >= 3), 20_000);
    const swept = workers.flatMap((worker) =>
      sweepsOf(worker).flatMap((line) => groupsOf(line).map((group) => `${line.tick}/${group}`)),
    );
    expect(new Set(swept).size).toBe(swept.length);
    for (const worker of workers) {
      for (const line of sweepsOf(worker)) {
        expect(line.groupsSwept).toBe(groupsOf(line).length);
        for (const group of groupsOf(line)) expect(group).toBeLessThan(GROUPS);
      }
    }
    // Between them, a tick's groups are all swept (nothing else holds a lease here).
    const ticks = new Map<string, number>();
    for (const entry of swept)
      ticks.set(entry.split("/")[0] as string, (ticks.get(entry.split("/")[0] as string) ?? 0) + 1);
    expect([...ticks.values()]).toContain(GROUPS);
  });

  it("when a replica is killed with SIGKILL mid-group, the other takes that group over once its lease expires", async () => {
    // Enough due users, in steps of 10, that one group's sweep lasts a while.
    for (let start = 0; start < 30_000; start += 1_000) {
      await Promise.all(Array.from({ length: 1_000 }, (_, i) => side.store.create(`u-${start + i}`)));
    }
    await sleep(350);
    let holder: WorkerProcess | undefined;
    await eventually(
      async () => {
        for (const worker of workers) {
          const { body } = await getJson(worker.url("/stats"));
          if ((body.sweeper as { leaseHeld: boolean }).leaseHeld) holder = worker;
        }
        return holder !== undefined;
      },
      20_000,
      20,
    );
    const killed = holder as WorkerProcess;
    const survivor = workers.find((worker) => worker !== killed) as WorkerProcess;
    const killedAt = Date.now();
    await killed.stop("SIGKILL");

    // The group it was sweeping: its mark names the killed process, and its lease is still there.
    const marks = await Promise.all(
      Array.from({ length: GROUPS }, (_, group) =>
        side.redis.hget(`${side.prefix}{usersession-sweeper}:running:${group}`, "holder"),
      ),
    );
    const orphan = marks.findIndex((mark) => mark?.endsWith(`:${killed.child.pid}`));
    expect(orphan).toBeGreaterThanOrEqual(0);
    expect(await side.redis.pttl(`${side.prefix}{usersession-sweeper}:lease:${orphan}`)).toBeGreaterThan(0);

    // The survivor finishes the job, that group included, but that group only after its lease ran out.
    await eventually(async () => (await side.store.findDueSlots(ALL_SLOTS)).length === 0, 60_000);
    const report = await survivor.waitForLog(
      (line) => line.msg === "previous sweep did not finish" && line.group === orphan,
      10_000,
    );
    expect(String(report.holder)).toMatch(new RegExp(`:${killed.child.pid}$`));
    expect(report.time).toBeGreaterThanOrEqual(killedAt + (2 * LEASE_MS) / 3 - 1_000);
    expect(survivor.child.exitCode).toBeNull();
  });
});
