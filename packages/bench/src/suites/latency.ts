/**
 * `get` latency (p50, p99) at full concurrency, without a sweep and while
 * the worker's sweep runs in another process on a large set of dangling users
 * (at the worker's default settings and flat out).
 */
import type { BenchContext } from "../context.js";
import type { Figure } from "../figures.js";
import { closedLoop, median, percentile } from "../harness.js";
import { seedReadFixture } from "./reads.js";
import { SWEEP_SETTINGS, type SweepSetting, seedDangling, startSweepChild } from "./sweeper.js";

export async function latencySuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  const windowMs = sizes.latencyWindowMs;
  await ctx.flush();
  const { sessions } = await seedReadFixture(ctx, sizes.readUsers);
  const store = ctx.store();
  const window = async () => {
    const result = await closedLoop(
      (i) => {
        const s = sessions[(i * 7919) % sessions.length] as (typeof sessions)[number];
        return store.get(s.userId, s.sessionId);
      },
      { concurrency: sizes.concurrency, durationMs: windowMs, latencies: true },
    );
    const sorted = (result.latenciesMs as Float64Array).sort();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  // The median of many short windows: one window's p99 is at the mercy of a single GC pause.
  const summarize = (windows: { p50: number; p99: number }[]) => ({
    p50: median(windows.map((w) => w.p50)),
    p99: median(windows.map((w) => w.p99)),
    windows: windows.length,
  });
  const quietWindows = Math.max(3, Math.round((sizes.rounds * sizes.measureMs) / windowMs));
  for (let i = 0; i < 2; i++) await window(); // warm-up (renewal writes of first reads, JIT)
  const quietRuns: { p50: number; p99: number }[] = [];
  for (let i = 0; i < quietWindows; i++) quietRuns.push(await window());
  const quiet = summarize(quietRuns);
  progress.step(
    `latency: without sweep p50 ${quiet.p50.toFixed(2)} ms, p99 ${quiet.p99.toFixed(2)} ms (${quiet.windows} windows)`,
  );

  const duringSweep = async (setting: SweepSetting, tag: string) => {
    await seedDangling(ctx.redis, sizes.latencySweepUsers, tag);
    const sweep = startSweepChild(ctx.url, setting);
    let done = false;
    const finished = sweep.result.finally(() => {
      done = true;
    });
    await sweep.started;
    sweep.go();
    const runs: { p50: number; p99: number }[] = [];
    while (!done) {
      const result = await window();
      if (!done) runs.push(result);
    }
    const { durationMs } = await finished;
    if (runs.length < 3) {
      throw new Error(`the sweep took ${durationMs} ms: too short for 3 windows of ${windowMs} ms (seed more users)`);
    }
    const summary = summarize(runs);
    progress.step(
      `latency: during sweep (${setting.label}) p50 ${summary.p50.toFixed(2)} ms, p99 ${summary.p99.toFixed(2)} ms (${summary.windows} windows in a ${durationMs} ms sweep)`,
    );
    return summary;
  };
  const busy = await duringSweep(SWEEP_SETTINGS.default, "lat");
  const busyFast = await duringSweep(SWEEP_SETTINGS.fast, "lat2");
  const p99Figure = (figure: string, during: typeof busy): Figure => ({
    figure,
    ours: during.p99,
    baseline: quiet.p99,
    baselineName: "the same without a sweep",
    unit: "ms",
    ratio: during.p99 / quiet.p99,
    target: "≤ 2×",
    pass: during.p99 / quiet.p99 <= 2,
    note: `median of ${during.windows} windows of ${windowMs} ms inside the sweep, against ${quiet.windows} without`,
  });
  return [
    {
      figure: `\`get\` p50 latency during a sweep (${SWEEP_SETTINGS.default.label})`,
      ours: busy.p50,
      baseline: quiet.p50,
      baselineName: "the same without a sweep",
      unit: "ms",
      ratio: busy.p50 / quiet.p50,
      target: "reported",
      pass: null,
    },
    p99Figure(`\`get\` p99 latency during a sweep (${SWEEP_SETTINGS.default.label})`, busy),
    p99Figure(`\`get\` p99 latency during a sweep (${SWEEP_SETTINGS.fast.label})`, busyFast),
  ];
}
