/**
 * The short form of redis-full: Redis at its maxmemory under the worker and
 * the demo API. Creates and logins are refused with the typed backend error
 * and write nothing, existing sessions keep authenticating, logouts work,
 * memory does not grow, nothing acknowledged is lost or undone, and creates
 * succeed again soon after memory is freed.
 */
import { expect, it } from "vitest";
import { REDIS_FULL_SIZES, redisFull } from "../src/scenarios/redis-full.js";
import { quiet, RECOVERY_BOUND_MS } from "./support/bounds.js";

it("a full Redis refuses creates with a typed error, serves existing sessions, takes logouts, and recovers", async () => {
  const result = await redisFull(quiet("short"));
  const size = REDIS_FULL_SIZES.short;

  expect(result.violations).toEqual([]);
  // Rows: [what, attempted, as required].
  for (const row of result.table?.rows ?? []) expect(row[2]).toBe(row[1]);
  expect(result.table?.rows[0]?.[1]).toBe(size.refusedCreates + size.refusedLogins);
  expect(result.checked.liveSessions).toBeGreaterThan(100);
  expect(result.checked.removals).toBeGreaterThan(40);
  expect(result.recoveryMs).toHaveLength(2);
  for (const ms of result.recoveryMs) expect(ms).toBeLessThan(RECOVERY_BOUND_MS);
});
