import {
  activityShardKey,
  legacyActivityKey,
  type SessionStore,
  SLOT_COUNT,
  userKey,
} from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openSessionSide, type SessionSide, sleep } from "./support/sessions.js";
import { eventually, getJson, type LogLine, startWorker, type WorkerProcess } from "./support/worker.js";

const DANGLING = 10_000;
const PARTLY = 2_000;
const LIVE = 2_000;

let side: SessionSide;
let worker: WorkerProcess;
let longLived: SessionStore;
const liveSessions: { userId: string; sessionId: string }[] = [];
/** Expired sessions waiting for the sweeper, counted in Redis once seeding is done. */
let expiredSessions = 0;

async function inChunks<T>(count: number, make: (i: number) => Promise<T>, chunk = 1_000): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += chunk) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(chunk, count - start) }, (_, j) => make(start + j)))));
  }
  return out;
}

beforeAll(async () => {
  side = openSessionSide(inject("redisUrl"), { idleTimeoutMs: 1_000, touchIntervalMs: 0 });
  longLived = side.storeWith({ idleTimeoutMs: 10 * 60_000 });
  // Dangling users hold 1 to 3 sessions, all about to expire.
  await inChunks(DANGLING, async (i) => {
    for (let n = 0; n <= i % 3; n++) await side.store.create(`dangling-${i}`, { device: { name: `d${n}` } });
  });
  // Partly expired users: one session about to expire, one long-lived.
  await inChunks(PARTLY, async (i) => {
    await side.store.create(`partly-${i}`);
    const { sessionId } = await longLived.create(`partly-${i}`);
    liveSessions.push({ userId: `partly-${i}`, sessionId });
  });
  await inChunks(LIVE, async (i) => {
    const { sessionId } = await longLived.create(`live-${i}`);
    liveSessions.push({ userId: `live-${i}`, sessionId });
  });
  // On a loaded machine a user's first sessions may expire, and be dropped by the next login, before
  // seeding ends: count what is really there for the sweeper.
  const lengths = side.redis.pipeline();
  for (let i = 0; i < DANGLING; i++) lengths.hlen(userKey(side.prefix, `dangling-${i}`));
  for (let i = 0; i < PARTLY; i++) lengths.hlen(userKey(side.prefix, `partly-${i}`));
  const counts = ((await lengths.exec()) ?? []).map(([, n]) => Number(n));
  expiredSessions = counts.reduce((sum, n, index) => sum + (index < DANGLING ? n : n - 1), 0);
  await sleep(1_100);
  worker = await startWorker({ ...side.workerEnv, SWEEP_CRON: "* * * * * *", SWEEP_BATCH_SIZE: "500" });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await side.close();
});

const sweepLines = () => worker.logs.filter((line) => line.msg === "sweep finished");
const total = (field: string) => sweepLines().reduce((sum, line: LogLine) => sum + Number(line[field]), 0);

describe("the sweeper", () => {
  it(`cleans ${DANGLING} dangling users one by one, until nothing due is left`, async () => {
    await eventually(() => total("usersScanned") >= DANGLING + PARTLY, 60_000);
    expect(total("hashesDeleted")).toBe(DANGLING);
    expect(expiredSessions).toBeGreaterThan(DANGLING + PARTLY / 2);
    expect(total("sessionsDeleted")).toBe(expiredSessions);
    const pipeline = side.redis.pipeline();
    for (let i = 0; i < DANGLING; i++) pipeline.exists(userKey(side.prefix, `dangling-${i}`));
    const exists = (await pipeline.exec())?.map(([, value]) => value);
    expect(exists?.filter((value) => value !== 0)).toEqual([]);
  });

  it("leaves every live session in place, and only live users in the activity shards", async () => {
    for (const { userId, sessionId } of liveSessions) {
      await expect(longLived.get(userId, sessionId)).resolves.toMatchObject({ userId });
    }
    for (let i = 0; i < PARTLY; i += 97) expect(await side.redis.hlen(userKey(side.prefix, `partly-${i}`))).toBe(1);
    const cards = side.redis.pipeline();
    const due = side.redis.pipeline();
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      cards.zcard(activityShardKey(side.prefix, slot));
      due.zcount(activityShardKey(side.prefix, slot), "-inf", Date.now());
    }
    const sum = async (pipeline: typeof cards) =>
      ((await pipeline.exec()) ?? []).reduce((total, [, n]) => total + Number(n), 0);
    expect(await sum(cards)).toBe(PARTLY + LIVE);
    expect(await sum(due)).toBe(0);
    expect(await side.redis.exists(legacyActivityKey(side.prefix))).toBe(0);
  });

  it("logs one summary line per tick with users scanned, sessions and hashes deleted, groups swept and duration", () => {
    const lines = sweepLines();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatchObject({
        tick: expect.any(String),
        usersScanned: expect.any(Number),
        sessionsDeleted: expect.any(Number),
        hashesDeleted: expect.any(Number),
        groupsSwept: expect.any(Number),
        durationMs: expect.any(Number),
      });
      // Alone, this replica takes every one of the 16 groups in each tick, each once.
      expect([...(line.groups as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, g) => g));
      expect(line.groupsSwept).toBe(16);
    }
    expect(new Set(lines.map((line) => line.tick)).size).toBe(lines.length);
  });

  it("/stats and /metrics report the sweep", async () => {
    const { body } = await getJson(worker.url("/stats"));
    const sweeper = body.sweeper as Record<string, unknown>;
    expect(sweeper.hashesDeleted).toBe(DANGLING);
    expect(sweeper.usersScanned).toBe(total("usersScanned"));
    expect(sweeper.runs).toBe(sweepLines().length);
    expect(sweeper.groupsSwept).toBe(total("groupsSwept"));
    expect(sweeper.lastRun).toMatchObject({ groupsSwept: 16 });
    expect(sweeper.lastRun).toMatchObject({ durationMs: expect.any(Number), finishedAt: expect.any(Number) });
    const metrics = await (await fetch(worker.url("/metrics"))).text();
    expect(metrics).toContain(`multisession_sweeper_hashes_deleted_total ${DANGLING}`);
    expect(metrics).toMatch(/multisession_sweeper_last_run_timestamp_seconds \d+/);
    expect(metrics).toMatch(/multisession_sweeper_lease_held [01]/);
    expect(metrics).toContain(`multisession_sweeper_groups_swept_total ${total("groupsSwept")}`);
    expect(metrics).toContain("multisession_sweeper_last_groups_swept 16");
  });
});
