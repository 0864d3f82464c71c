import { Writable } from "node:stream";
import { activityShardKey, DELETE_EXPIRED_SESSION_JOB, sessionKeyOf, userKey } from "@multisession/session-core";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { repeatedErrors } from "../src/repeated-errors.js";
import { openSessionSide } from "./support/sessions.js";
import { eventually, type LogLine, startWorker } from "./support/worker.js";

/** A real pino logger whose lines are kept, parsed. */
function capturedLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

const failure = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe("repeated errors in the log", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("logs the first of identical errors in full and the rest as one line per interval", () => {
    const { logger, lines } = capturedLogger();
    const repeats = repeatedErrors(logger, 10_000);
    for (let i = 0; i < 500; i++) repeats.log("error", { err: failure("MOVED 1234 127.0.0.1:7001") }, "worker error");
    expect(lines.map((line) => line.msg)).toEqual(["worker error"]);

    vi.advanceTimersByTime(10_000);
    expect(lines.map((line) => line.msg)).toEqual(["worker error", "worker error (repeated 499 times)"]);
    expect(lines[1]).toMatchObject({ level: 50, repeated: 499, intervalMs: 10_000 });

    // Still failing: one line per interval, however many failures.
    for (let i = 0; i < 300; i++) repeats.log("error", { err: failure("MOVED 1234 127.0.0.1:7001") }, "worker error");
    vi.advanceTimersByTime(10_000);
    expect(lines.map((line) => line.msg).slice(2)).toEqual(["worker error (repeated 300 times)"]);
  });

  it("counts as one failure messages that differ only in their numbers (slots, addresses, times)", () => {
    const { logger, lines } = capturedLogger();
    const repeats = repeatedErrors(logger, 10_000);
    repeats.log("error", { err: failure("MOVED 1234 127.0.0.1:7001") }, "worker error");
    repeats.log("error", { err: failure("MOVED 88 127.0.0.1:7002") }, "worker error");
    repeats.log("error", { err: failure("Command timed out after 1000 ms") }, "worker error");
    repeats.log("error", { err: failure("Command timed out after 1001 ms") }, "worker error");
    expect(lines.map((line) => (line.err as { message: string }).message)).toEqual([
      "MOVED 1234 127.0.0.1:7001",
      "Command timed out after 1000 ms",
    ]);
  });

  it("tells apart failures of another message, code, level or error", () => {
    const { logger, lines } = capturedLogger();
    const repeats = repeatedErrors(logger, 10_000);
    repeats.log("warn", { err: failure("boom", "A") }, "job failed");
    repeats.log("warn", { err: failure("boom", "B") }, "job failed");
    repeats.log("error", { err: failure("boom", "A") }, "job failed");
    repeats.log("warn", { err: failure("boom", "A") }, "sweep failed");
    repeats.log("warn", { err: failure("bang", "A") }, "job failed");
    expect(lines).toHaveLength(5);
  });

  it("logs a failure in full again once an interval passed without it", () => {
    const { logger, lines } = capturedLogger();
    const repeats = repeatedErrors(logger, 10_000);
    repeats.log("warn", { err: failure("down") }, "job failed");
    vi.advanceTimersByTime(10_000);
    vi.advanceTimersByTime(10_000);
    repeats.log("warn", { err: failure("down") }, "job failed");
    expect(lines.map((line) => line.msg)).toEqual(["job failed", "job failed"]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("flush writes the counts so far at once", () => {
    const { logger, lines } = capturedLogger();
    const repeats = repeatedErrors(logger, 10_000);
    for (let i = 0; i < 3; i++) repeats.log("warn", { err: failure("down") }, "job failed");
    repeats.flush();
    expect(lines.map((line) => line.msg)).toEqual(["job failed", "job failed (repeated 2 times)"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tracks at most 100 kinds and counts the others together", () => {
    const { logger, lines } = capturedLogger();
    const repeats = repeatedErrors(logger, 10_000);
    for (let i = 0; i < 150; i++) repeats.log("warn", { err: failure(`kind ${String.fromCharCode(65 + i)}`) }, "x");
    expect(lines).toHaveLength(100);
    vi.advanceTimersByTime(10_000);
    expect(lines.at(-1)).toMatchObject({ level: 40, otherKinds: 50 });
  });
});

describe("the worker's failing jobs and sweeps", () => {
  it("log one line for many identical failures, and their count at shutdown", async () => {
    const side = openSessionSide(inject("redisUrl"));
    const worker = await startWorker({ ...side.workerEnv, SWEEP_CRON: "0 0 1 1 *" });
    try {
      const { sessionId } = await side.store.create("template");
      // Keys of another type than a hash where the users' hashes belong: every job fails alike (WRONGTYPE).
      for (let i = 0; i < 10; i++) {
        await side.redis.set(userKey(side.prefix, `foreign-${i}`), "not a hash");
        await side.queue.add(DELETE_EXPIRED_SESSION_JOB, {
          userId: `foreign-${i}`,
          sessionKey: sessionKeyOf(sessionId),
          expiresAt: Date.now(),
        });
      }
      await eventually(async () => (await side.queue.getJobCounts("failed")).failed === 10);
    } finally {
      await worker.stop();
      await side.close();
    }
    const full = worker.logs.filter((line) => line.msg === "deletion job failed");
    const summaries = worker.logs.filter((line) => line.msg.startsWith("deletion job failed (repeated"));
    expect(full).toHaveLength(1);
    expect(full[0]?.err).toMatchObject({ message: expect.stringMatching(/WRONGTYPE/) });
    expect(summaries.reduce((sum, line) => sum + (line.repeated as number), 0)).toBe(9);
  });

  it("log one line for a sweep that fails on every tick, and its count at shutdown", async () => {
    const side = openSessionSide(inject("redisUrl"));
    // One activity shard's key holds a string: every sweep of its group fails alike (WRONGTYPE).
    await side.redis.set(activityShardKey(side.prefix, 5_000), "not a sorted set");
    const worker = await startWorker({ ...side.workerEnv, SWEEP_CRON: "* * * * * *" });
    try {
      // A failed group leaves its mark, which its next sweep reports: two reports, three failed sweeps.
      await eventually(() => worker.logs.filter((line) => line.msg === "previous sweep did not finish").length >= 2);
    } finally {
      await worker.stop();
      await side.close();
    }
    const full = worker.logs.filter((line) => line.msg === "sweep failed; the next tick retries");
    const summaries = worker.logs.filter((line) =>
      line.msg.startsWith("sweep failed; the next tick retries (repeated"),
    );
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ group: 4, err: { message: expect.stringMatching(/WRONGTYPE/) } });
    expect(summaries.reduce((sum, line) => sum + (line.repeated as number), 0)).toBeGreaterThanOrEqual(2);
    // The group's failure leaves the other groups to be swept on every tick.
    const reports = worker.logs.filter((line) => line.msg === "previous sweep did not finish");
    expect(new Set(reports.map((line) => line.group))).toEqual(new Set([4]));
    const swept = worker.logs.filter((line) => line.msg === "sweep finished");
    expect(swept.length).toBeGreaterThanOrEqual(2);
    for (const line of swept) expect(line.groupsSwept).toBe(15);
  });
});
