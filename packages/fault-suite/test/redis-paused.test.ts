/**
 * The short form of redis-paused: Redis frozen (SIGSTOP) for 3 s under
 * library and HTTP load, twice. Every call made during the pause ends
 * within the client's bound (it does not wait for Redis to wake up), with a
 * typed error if it fails; every client succeeds again soon after SIGCONT;
 * no acknowledged write is lost or undone.
 */
import { expect, it } from "vitest";
import { redisPaused } from "../src/scenarios/redis-paused.js";
import { CALL_BOUND_MS, quiet, RECOVERY_BOUND_MS } from "./support/bounds.js";

it("calls during a Redis pause end within the bound, and every client recovers once it resumes", async () => {
  const result = await redisPaused(quiet("short"));

  expect(result.violations).toEqual([]);
  expect(result.faults.count).toBe(2);
  expect(result.checked.liveSessions).toBeGreaterThan(100);
  expect(result.checked.removals).toBeGreaterThan(10);
  // The pause (3 s) is longer than the bound: calls failed rather than waited it out.
  expect(result.incident?.failed).toBeGreaterThan(0);
  expect(result.incident?.maxMs).toBeLessThan(CALL_BOUND_MS);
  for (const ms of result.recoveryMs) expect(ms).toBeLessThan(RECOVERY_BOUND_MS);
});
