/**
 * What every scenario takes and returns. A scenario starts its own processes,
 * injects its faults a bounded number of times, stops by itself, checks the
 * invariants and reports what it measured; it throws only when the harness
 * itself failed (a process that would not start), never for a violation,
 * which it returns.
 */
import type { LatencySummary } from "./figures.js";
import type { Violation } from "./invariants.js";

/**
 * The bounds a client with session-core's shipped connection options must
 * keep in an incident, generous beside the documented figures (a call fails
 * within about 2 s; calls succeed again within about a second of Redis
 * answering) for a loaded two-core machine. Past them is a violation.
 */
export const CALL_BOUND_MS = 3_000;
export const RECOVERY_BOUND_MS = 5_000;

/** `short` runs in CI (seconds per scenario); `long` is `pnpm faults --long`. */
export type Form = "short" | "long";

export interface ScenarioContext {
  form: Form;
  /** A progress line (stderr in the runner, silent or console in tests). */
  log(message: string): void;
}

export interface ScenarioResult {
  name: string;
  title: string;
  form: Form;
  durationMs: number;
  /** Calls made by the scenario's clients. */
  operations: number;
  faults: { count: number; what: string };
  /** Acknowledged writes the invariants checked. */
  checked: { liveSessions: number; removals: number; other?: string };
  violations: Violation[];
  /** Calls in flight while a fault was on (until the clients recovered), all incidents together. */
  incident: LatencySummary | null;
  /** Per incident: from the fault being lifted (Redis answering again) to the first successful call. */
  recoveryMs: number[];
  /** Per-incident figures. */
  table?: { header: string[]; rows: (string | number)[][] };
  notes: string[];
}

export type Scenario = (context: ScenarioContext) => Promise<ScenarioResult>;
