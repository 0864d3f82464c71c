/** The scenarios' bounds (src/scenario.ts), and a context for running a scenario quietly. */
import type { Form, ScenarioContext } from "../../src/scenario.js";

export { CALL_BOUND_MS, RECOVERY_BOUND_MS } from "../../src/scenario.js";

/** A scenario context that logs only when FAULTS_VERBOSE is set. */
export function quiet(form: Form): ScenarioContext {
  return { form, log: (message) => (process.env.FAULTS_VERBOSE ? process.stderr.write(`${message}\n`) : undefined) };
}
