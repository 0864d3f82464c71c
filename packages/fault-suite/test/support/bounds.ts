/**
 * The bounds the fault tests hold a bounded client to: generous beside the
 * documented figures (a call fails within about 2 s; calls succeed again
 * within about a second of Redis answering), for a loaded two-core machine.
 */
import type { Form, ScenarioContext } from "../../src/scenario.js";

/** No call made during an incident takes longer than this. */
export const CALL_BOUND_MS = 3_000;
/** Every client succeeds again within this of Redis answering. */
export const RECOVERY_BOUND_MS = 5_000;

/** A scenario context that logs only when FAULTS_VERBOSE is set. */
export function quiet(form: Form): ScenarioContext {
  return { form, log: (message) => (process.env.FAULTS_VERBOSE ? process.stderr.write(`${message}\n`) : undefined) };
}
