/**
 * Call records and the figures drawn from them: how many calls, how many
 * failed, latency percentiles, and when the first call succeeded after a
 * point in time. Times are `performance.now()` milliseconds.
 */

export interface CallRecord {
  client: "library" | "http";
  operation: string;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** The error code (session-core's, or the HTTP answer's) of a failed call. */
  code?: string;
}

export interface LatencySummary {
  calls: number;
  failed: number;
  p50Ms: number;
  maxMs: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarise(calls: CallRecord[]): LatencySummary {
  const durations = calls.map((call) => call.endedAt - call.startedAt).sort((a, b) => a - b);
  return {
    calls: calls.length,
    failed: calls.filter((call) => !call.ok).length,
    p50Ms: Math.round(percentile(durations, 50)),
    maxMs: Math.round(durations.at(-1) ?? 0),
  };
}

/** Calls in flight at any time within [from, to]. */
export function overlapping(calls: CallRecord[], from: number, to: number): CallRecord[] {
  return calls.filter((call) => call.startedAt <= to && call.endedAt >= from);
}

/** How long after `since` the first call started at or after it succeeded; null if none did. */
export function firstSuccessAfter(calls: CallRecord[], since: number): number | null {
  let first: number | null = null;
  for (const call of calls) {
    if (call.ok && call.startedAt >= since && (first === null || call.endedAt < first)) first = call.endedAt;
  }
  return first === null ? null : first - since;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export function max(values: number[]): number {
  return values.length === 0 ? 0 : Math.max(...values);
}
