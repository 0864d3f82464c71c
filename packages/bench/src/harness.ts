/**
 * Measuring: a closed loop of `concurrency` operations in flight, for a time
 * or a number of operations, with optional per-operation latencies; and
 * comparisons that interleave systems round by round (the order rotates each
 * round) and keep the median of each.
 */
import type { Progress } from "./progress.js";

export interface LoopResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  latenciesMs?: Float64Array;
}

export async function closedLoop(
  op: (i: number) => Promise<unknown>,
  options: { concurrency: number; durationMs?: number; totalOps?: number; latencies?: boolean },
): Promise<LoopResult> {
  const { concurrency, durationMs, totalOps } = options;
  let issued = 0;
  let done = 0;
  let stop = false;
  const latencies = options.latencies ? new Float64Array(1 << 22) : undefined;
  const timer = durationMs === undefined ? undefined : setTimeout(() => (stop = true), durationMs);
  const started = performance.now();
  const lane = async () => {
    while (!stop && (totalOps === undefined || issued < totalOps)) {
      const i = issued++;
      const t0 = performance.now();
      await op(i);
      if (latencies && done < latencies.length) latencies[done] = performance.now() - t0;
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  return {
    ops: done,
    seconds,
    opsPerSec: done / seconds,
    latenciesMs: latencies?.slice(0, Math.min(done, latencies.length)),
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Contender {
  name: string;
  /** Runs before each measurement of this contender (e.g. seeding what it will remove). */
  prepare?: (round: number) => Promise<void>;
  /** One operation; `i` counts from 0 within the measurement. */
  op: (i: number, round: number) => Promise<unknown>;
  /** Measure a fixed number of operations instead of a fixed time. */
  totalOps?: number;
}

/** Interleaved rounds; returns each contender's median ops/s and its samples. */
export async function compare(
  title: string,
  contenders: Contender[],
  sizes: { rounds: number; measureMs: number; warmupMs: number; concurrency: number },
  progress: Progress,
): Promise<Record<string, { median: number; samples: number[] }>> {
  const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < sizes.rounds; round++) {
    const order = contenders.map((_, k) => contenders[(k + round) % contenders.length] as Contender);
    for (const contender of order) {
      await contender.prepare?.(round);
      if (contender.totalOps === undefined && sizes.warmupMs > 0) {
        await closedLoop((i) => contender.op(i, round), { concurrency: sizes.concurrency, durationMs: sizes.warmupMs });
        await contender.prepare?.(round);
      }
      const result = await closedLoop((i) => contender.op(i, round), {
        concurrency: sizes.concurrency,
        durationMs: contender.totalOps === undefined ? sizes.measureMs : undefined,
        totalOps: contender.totalOps,
      });
      samples[contender.name]?.push(result.opsPerSec);
      progress.step(
        `${title} round ${round + 1}/${sizes.rounds}: ${contender.name} ${Math.round(result.opsPerSec).toLocaleString("en")} ops/s`,
      );
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [name, { median: median(values), samples: values }]),
  );
}
