/**
 * The short form of lost-reply: create, remove, revoke and removeAll, each
 * five times with its reply dropped after Redis ran it. Every call returns
 * the true outcome (read straight from Redis) or fails with the typed
 * SessionOutcomeUnknownError: no wrong answer.
 */
import { expect, it } from "vitest";
import { lostReply } from "../src/scenarios/lost-reply.js";
import { CALL_BOUND_MS, quiet, RECOVERY_BOUND_MS } from "./support/bounds.js";

it("a call whose reply was lost returns the true outcome or says the outcome is unknown, never a wrong answer", async () => {
  const result = await lostReply(quiet("short"));

  expect(result.violations).toEqual([]);
  expect(result.faults.count).toBe(20);
  // One row per operation: [operation, true outcome, outcome unknown, wrong answer].
  for (const row of result.table?.rows ?? []) {
    expect(row[3]).toBe(0);
    expect(Number(row[1]) + Number(row[2])).toBe(5);
  }
  // create is idempotent: the store sends it again and learns the truth.
  expect(result.table?.rows.find((row) => row[0] === "create")?.[1]).toBe(5);
  expect(result.incident?.maxMs).toBeLessThan(CALL_BOUND_MS);
  for (const ms of result.recoveryMs) expect(ms).toBeLessThan(RECOVERY_BOUND_MS);
});
