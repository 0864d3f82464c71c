/**
 * The benchmark is not a test, but its harness is code: run it whole in tiny
 * mode (seconds) so it cannot rot, and check what it writes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { closedLoop, median, percentile } from "../src/harness.js";
import { runBenchmarks } from "../src/run.js";

const outDir = mkdtempSync(join(tmpdir(), "ms-bench-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("the benchmark harness", () => {
  it("measures a closed loop by time and by count", async () => {
    const timed = await closedLoop(() => new Promise((resolve) => setImmediate(resolve)), {
      concurrency: 4,
      durationMs: 50,
      latencies: true,
    });
    expect(timed.ops).toBeGreaterThan(0);
    expect(timed.latenciesMs?.length).toBe(timed.ops);
    const counted = await closedLoop(async () => {}, { concurrency: 8, totalOps: 100 });
    expect(counted.ops).toBe(100);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(percentile(Float64Array.from([1, 2, 3, 4]), 50)).toBe(3);
  });

  it("runs every suite in tiny mode and writes the table and the JSON", async () => {
    const { figures, markdownPath, jsonPath } = await runBenchmarks({
      mode: "tiny",
      outDir,
      command: "pnpm bench --tiny",
      quiet: true,
    });
    const names = figures.map((figure) => figure.figure);
    for (const expected of [
      "`get` (live session)",
      "`get` vs connect-redis",
      "`authenticate`",
      "`authenticate` vs `get`",
      "`create`",
      "`touch`",
      "`list` (5 devices)",
      "`setUserInfo`",
      "`remove`",
      "`removeAll` (2 devices)",
      "sweeper process peak RSS",
      "sweeper: Redis time per due user, half of them keeping a live session",
      "`get` on a Redis Cluster",
      "`create` on a Redis Cluster",
    ]) {
      expect(names).toContain(expected);
    }
    expect(names.some((name) => name.startsWith("expired-read jobs drained"))).toBe(true);
    expect(
      names.some((name) => name.startsWith("sweeper: ") && name.includes("dangling users, every session expired")),
    ).toBe(true);
    expect(names.some((name) => name.startsWith("`get` p99 latency during a sweep"))).toBe(true);
    expect(names.some((name) => name.startsWith("Redis memory per session"))).toBe(true);
    for (const where of ["single redis-server", "Redis Cluster, 3 masters"]) {
      for (const replicas of ["1 worker replica", "2 worker replicas", "3 worker replicas"]) {
        expect(names.some((name) => name.includes(`: ${where}, ${replicas} (`))).toBe(true);
      }
    }
    for (const figure of figures) {
      expect(Number.isFinite(figure.ours) && figure.ours > 0, figure.figure).toBe(true);
      expect(figure.baseline === null || figure.baseline > 0, figure.figure).toBe(true);
    }
    const markdown = readFileSync(markdownPath, "utf8");
    expect(markdown).toContain("| figure | session-core | baseline (same run) | ratio | target | verdict |");
    expect(markdown).toContain("pnpm bench --tiny");
    expect(markdown.match(/^\| `get` \(live session\)/m)).not.toBeNull();
    const json = JSON.parse(readFileSync(jsonPath, "utf8"));
    expect(json.figures).toHaveLength(figures.length);
    expect(json.run.redisVersion).toMatch(/^\d+\.\d+/);
  });
});
