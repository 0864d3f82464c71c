/**
 * The short form of worker-kill: the worker killed with SIGKILL mid-sweep
 * and mid-job twice, then two replicas at once. Nothing acknowledged is lost
 * or undone, nothing dangling is left once the replicas are done, no job
 * fails for good, and the replicas never sweep at the same time.
 */
import { expect, it } from "vitest";
import { workerKill } from "../src/scenarios/worker-kill.js";
import { quiet } from "./support/bounds.js";

it("a worker killed mid-sweep and mid-job leaves nothing lost and, once replaced, nothing dangling", async () => {
  const result = await workerKill(quiet("short"));

  expect(result.violations).toEqual([]);
  expect(result.faults.count).toBe(2);
  expect(result.checked.liveSessions).toBeGreaterThan(100);
  expect(result.checked.removals).toBeGreaterThan(10);
  // Every kill landed mid-sweep, while the worker had jobs in flight (rows: kill, enqueued, mid-sweep, active, ...).
  expect(result.table?.rows).toHaveLength(2);
  for (const row of result.table?.rows ?? []) {
    expect(row[2]).toBe("yes");
    expect(row[3]).not.toBe(0);
  }
});
