/**
 * `get` latency (p50, p99) at full concurrency, without a sweep and while
 * the worker's sweep runs in another process on a large set of dangling users
 * (at the worker's default SWEEP_CONCURRENCY and at a faster setting).
 */
import type { BenchContext } from "../context.js";
import type { Figure } from "../figures.js";
import { closedLoop, median, percentile } from "../harness.js";
import { seedReadFixture } from "./reads.js";
import { SWEEP_CONCURRENCY, seedDangling, startSweepChild } from "./sweeper.js";

export async function latencySuite(ctx: BenchContext): Promise<Figure[]> {
  const { sizes, progress } = ctx;
  await ctx.flush();
  const { sessions } = await seedReadFixture(ctx, sizes.readUsers);
  await seedDangling(ctx, sizes.sweepUsers, "lat");
  const store = ctx.store();
  // The median of `rounds` windows: one window's p99 is at the mercy of a single GC pause.
  const measure = async () => {
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let window = 0; window < sizes.rounds; window++) {
      const result = await closedLoop(
        (i) => {
          const s = sessions[(i * 7919) % sessions.length] as (typeof sessions)[number];
          return store.get(s.userId, s.sessionId);
        },
        { concurrency: sizes.concurrency, durationMs: sizes.measureMs, latencies: true },
      );
      const sorted = (result.latenciesMs as Float64Array).sort();
      p50s.push(percentile(sorted, 50));
      p99s.push(percentile(sorted, 99));
    }
    return { p50: median(p50s), p99: median(p99s) };
  };
  await measure(); // warm-up (renewal writes of first reads)
  const quiet = await measure();
  progress.step(`latency: without sweep p50 ${quiet.p50.toFixed(2)} ms, p99 ${quiet.p99.toFixed(2)} ms`);
  const duringSweep = async (concurrency: number) => {
    const sweep = startSweepChild(ctx.url, concurrency);
    await sweep.started;
    const result = await measure();
    const { durationMs } = await sweep.result;
    progress.step(
      `latency: during sweep (${concurrency} in flight) p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
    );
    return { ...result, stillSweeping: durationMs >= sizes.measureMs };
  };
  const busy = await duringSweep(SWEEP_CONCURRENCY.default);
  await seedDangling(ctx, sizes.sweepUsers, "lat2");
  const busyFast = await duringSweep(SWEEP_CONCURRENCY.fast);
  const p99Figure = (figure: string, during: typeof busy): Figure => ({
    figure,
    ours: during.p99,
    baseline: quiet.p99,
    baselineName: "the same without a sweep",
    unit: "ms",
    ratio: during.p99 / quiet.p99,
    target: "≤ 2×",
    pass: during.p99 / quiet.p99 <= 2,
    note: during.stillSweeping ? undefined : "the sweep ended before the measurement did",
  });
  return [
    {
      figure: `\`get\` p50 latency during a sweep (SWEEP_CONCURRENCY=${SWEEP_CONCURRENCY.default})`,
      ours: busy.p50,
      baseline: quiet.p50,
      baselineName: "the same without a sweep",
      unit: "ms",
      ratio: busy.p50 / quiet.p50,
      target: "reported",
      pass: null,
    },
    p99Figure(`\`get\` p99 latency during a sweep (SWEEP_CONCURRENCY=${SWEEP_CONCURRENCY.default})`, busy),
    p99Figure(`\`get\` p99 latency during a sweep at SWEEP_CONCURRENCY=${SWEEP_CONCURRENCY.fast}`, busyFast),
  ];
}
