import { activityKey } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson, startWorker, type WorkerProcess } from "./support/worker.js";

const LEASE_MS = 3_000;
let side: SessionSide;
let workers: WorkerProcess[];

beforeAll(async () => {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 300, touchIntervalMs: 0 });
  const env = {
    ...side.workerEnv,
    SWEEP_CRON: "* * * * * *",
    SWEEP_BATCH_SIZE: "10",
    SWEEP_LEASE_MS: String(LEASE_MS),
  };
  workers = await Promise.all([startWorker(env), startWorker(env)]);
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
  await side.close();
});

const ticksOf = (worker: WorkerProcess) =>
  worker.logs.filter((line) => line.msg === "sweep finished").map((line) => String(line.tick));

describe("two worker replicas", () => {
  it("sweep each tick only once between them", async () => {
    await sleep(4_500);
    const [a, b] = workers.map(ticksOf) as [string[], string[]];
    const all = [...a, ...b];
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(new Set(all).size).toBe(all.length);
  });

  it("when the lease holder is killed with SIGKILL mid-sweep, the other takes over once the lease expires", async () => {
    // Enough due users, in batches of 10, that a sweep lasts a few seconds.
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
    const survivor = workers.find((worker) => worker !== holder) as WorkerProcess;
    const killedAt = Date.now();
    await holder?.stop("SIGKILL");
    const survivorRunsBefore = ticksOf(survivor).length;

    // The survivor finishes the job, but only after the dead holder's lease ran out.
    const due = () => side.redis.zcount(activityKey(side.prefix), "-inf", Date.now());
    await eventually(async () => (await due()) === 0, 60_000);
    const takeover = ticksOf(survivor)
      .slice(survivorRunsBefore)
      .map((tick) => Date.parse(tick));
    expect(takeover.length).toBeGreaterThan(0);
    expect(Math.min(...takeover)).toBeGreaterThanOrEqual(killedAt + (2 * LEASE_MS) / 3 - 1_000);
    expect(survivor.child.exitCode).toBeNull();
  });
});
