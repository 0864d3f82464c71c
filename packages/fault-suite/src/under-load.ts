/**
 * The shape redis-kill and redis-paused share: the worker and the demo API
 * as child processes on a private redis-server, library and HTTP clients
 * calling throughout, and a Redis fault injected cycle after cycle. The apps
 * are never restarted: they must recover by themselves.
 *
 * Per cycle it measures the calls in flight from the fault until every
 * client has succeeded again (how many, how many failed, p50 and max
 * latency), and the recovery time: from the fault being lifted (Redis
 * answering) to the first successful call of each kind of client; a call
 * past CALL_BOUND_MS or a recovery past RECOVERY_BOUND_MS is a violation.
 * After the last cycle: both apps ready again, and every invariant.
 */
import { DEFAULTS } from "@multisession/session-core";
import { firstSuccessAfter, max, overlapping, summarise } from "./figures.js";
import { checkInvariants, type Violation } from "./invariants.js";
import { Ledger } from "./ledger.js";
import { startHttpLoad, startLibraryLoad } from "./load.js";
import { CALL_BOUND_MS, RECOVERY_BOUND_MS, type ScenarioContext, type ScenarioResult } from "./scenario.js";
import {
  connectDirect,
  connectLibrary,
  FaultyRedis,
  httpStatus,
  isRunning,
  namespaceFor,
  type RedisOptions,
  sleep,
  startApps,
  waitFor,
} from "./stack.js";

export interface UnderLoadOptions {
  name: string;
  title: string;
  faultName: string;
  redis: RedisOptions;
  cycles: number;
  /** Load before each fault (and after the last). */
  loadMs: number;
  libraryLoops: number;
  httpLoops: number;
  restMs: number;
  /** Injects one fault and lifts it; resolves once Redis answers again. */
  inject(redis: FaultyRedis): Promise<void>;
  notes: string[];
}

/** A client that has not succeeded this long after Redis answers counts as not recovered. */
const RECOVERY_LIMIT_MS = 15_000;

export async function runUnderLoad(context: ScenarioContext, options: UnderLoadOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const namespace = namespaceFor(options.name);
  const redis = await FaultyRedis.start(options.redis);
  const [worker, api] = await startApps(redis, namespace);
  const library = connectLibrary(redis.url, namespace);
  const direct = connectDirect(redis.url);
  const ledger = new Ledger();
  const maxSessionsPerUser = DEFAULTS.maxSessionsPerUser;
  const common = { usersPerLoop: 40, restMs: options.restMs, maxSessionsPerUser, userTag: options.name };
  const libraryLoad = startLibraryLoad(library.store, ledger, { ...common, loops: options.libraryLoops });
  const httpLoad = startHttpLoad(api.url(""), ledger, { ...common, loops: options.httpLoops });
  const notes = [...options.notes];
  const rows: (string | number)[][] = [];
  const windows: [number, number][] = [];
  const recoveryMs: number[] = [];
  const violations: Violation[] = [];

  try {
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      await sleep(options.loadMs);
      const faultAt = performance.now();
      await options.inject(redis);
      const liftedAt = performance.now();
      const recovered = await waitFor(
        () =>
          firstSuccessAfter(libraryLoad.calls, liftedAt) !== null &&
          firstSuccessAfter(httpLoad.calls, liftedAt) !== null,
        RECOVERY_LIMIT_MS,
        20,
      );
      const libraryRecovery = firstSuccessAfter(libraryLoad.calls, liftedAt);
      const httpRecovery = firstSuccessAfter(httpLoad.calls, liftedAt);
      const endedAt = liftedAt + max([libraryRecovery ?? RECOVERY_LIMIT_MS, httpRecovery ?? RECOVERY_LIMIT_MS]);
      windows.push([faultAt, endedAt]);
      recoveryMs.push(endedAt - liftedAt);
      const during = summarise(overlapping([...libraryLoad.calls, ...httpLoad.calls], faultAt, endedAt));
      const shown = (ms: number | null) => (ms === null ? "none" : Math.round(ms));
      rows.push([
        cycle,
        Math.round(liftedAt - faultAt),
        during.calls,
        during.failed,
        during.p50Ms,
        during.maxMs,
        shown(libraryRecovery),
        shown(httpRecovery),
      ]);
      context.log(
        `${options.name} cycle ${cycle}/${options.cycles}: ${during.failed}/${during.calls} calls failed, ` +
          `p50 ${during.p50Ms} ms, max ${during.maxMs} ms; recovered in ${shown(libraryRecovery)} ms (library), ` +
          `${shown(httpRecovery)} ms (HTTP)`,
      );
      if (!recovered || endedAt - liftedAt > RECOVERY_BOUND_MS) {
        violations.push({
          invariant: "clientsRecoverWithinBound",
          userId: "-",
          detail: recovered
            ? `cycle ${cycle}: the last client succeeded again ${Math.round(endedAt - liftedAt)} ms after Redis answered`
            : `cycle ${cycle}: a client had not succeeded ${RECOVERY_LIMIT_MS} ms after Redis answered`,
        });
      }
      if (during.maxMs > CALL_BOUND_MS) {
        violations.push({
          invariant: "callsBounded",
          userId: "-",
          detail: `cycle ${cycle}: a call in the incident took ${during.maxMs} ms`,
        });
      }
    }
    await sleep(options.loadMs);
  } finally {
    await Promise.all([libraryLoad.stop(), httpLoad.stop()]);
  }

  try {
    // Never restarted: both apps must be ready again on their own.
    const appsReady = await waitFor(
      async () => (await httpStatus(worker.url("/readyz"))) === 200 && (await httpStatus(api.url("/readyz"))) === 200,
      10_000,
      100,
    );
    const appsAlive = isRunning(worker) && isRunning(api);
    const check = await checkInvariants(direct, { prefix: namespace.sessionPrefix, ledger, maxSessionsPerUser });
    violations.push(...libraryLoad.violations, ...httpLoad.violations, ...check.violations);
    if (!appsAlive || !appsReady) {
      violations.push({
        invariant: "appsRecoverByThemselves",
        userId: "-",
        detail: appsAlive ? "an app's /readyz is not 200" : "an app exited",
      });
    }
    const calls = [...libraryLoad.calls, ...httpLoad.calls];
    const inIncidents = calls.filter((call) =>
      windows.some(([from, to]) => call.startedAt <= to && call.endedAt >= from),
    );
    notes.push(
      `${options.libraryLoops} library loops (one SessionStore, one connection with SESSION_CONNECTION_OPTIONS) and ` +
        `${options.httpLoops} HTTP loops, each resting ${options.restMs} ms between calls.`,
      `Worker and API never restarted: ${appsAlive && appsReady ? "both ready again on their own" : "NOT both ready"}.`,
    );
    return {
      name: options.name,
      title: options.title,
      form: context.form,
      durationMs: performance.now() - started,
      operations: calls.length,
      faults: { count: options.cycles, what: options.faultName },
      checked: { liveSessions: check.liveChecked, removals: check.removalsChecked },
      violations,
      incident: summarise(inIncidents),
      recoveryMs,
      table: {
        header: [
          "cycle",
          "fault lasted (ms)",
          "calls in the incident",
          "failed",
          "p50 (ms)",
          "max (ms)",
          "library recovery (ms)",
          "HTTP recovery (ms)",
        ],
        rows,
      },
      notes,
    };
  } finally {
    await library.close();
    direct.disconnect();
    await Promise.all([worker.stop(), api.stop()]);
    await redis.stop();
  }
}
