/**
 * The short form of redis-kill: kill -9 of redis-server under library and
 * HTTP load, restarted from its AOF, three times. No acknowledged write is
 * lost or undone, every failure is typed, calls during the outage end within
 * the client's bound, and every client recovers soon after Redis answers,
 * with the worker and the API never restarted.
 */
import { expect, it } from "vitest";
import { redisKill } from "../src/scenarios/redis-kill.js";
import { CALL_BOUND_MS, quiet, RECOVERY_BOUND_MS } from "./support/bounds.js";

it("kill -9 of Redis under load loses no acknowledged write, and every client recovers by itself", async () => {
  const result = await redisKill(quiet("short"));

  expect(result.violations).toEqual([]);
  expect(result.faults.count).toBe(3);
  expect(result.checked.liveSessions).toBeGreaterThan(100);
  expect(result.checked.removals).toBeGreaterThan(10);
  // Calls were made during each outage, failed fast and typed (typed failures are not violations).
  expect(result.incident?.failed).toBeGreaterThan(0);
  expect(result.incident?.maxMs).toBeLessThan(CALL_BOUND_MS);
  for (const ms of result.recoveryMs) expect(ms).toBeLessThan(RECOVERY_BOUND_MS);
});
