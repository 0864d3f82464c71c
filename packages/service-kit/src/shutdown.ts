/**
 * Clean shutdown on SIGTERM or SIGINT: run the close steps in the order given,
 * all within one deadline (`timeoutMs` from the signal), then exit.
 *
 * The steps share the budget: each is handed the time left and should give up
 * by then (throwing ShutdownDeadlineError when it had to cut something short,
 * e.g. drop a connection that would not close, or leave jobs to be retried). A step that is still running at the
 * deadline is logged by name and the process exits at once, skipping the
 * rest: whatever Redis is doing, the process is gone `timeoutMs` after the
 * signal. Exit code 0 when every step closed cleanly; 1 when a step failed,
 * was cut short or overran the deadline (so orchestrators notice). A second
 * signal exits 1 at once.
 */
import type { Logger } from "pino";

/** A named close; `remainingMs` is what is left of the shutdown's budget when it starts. */
export type CloseStep = [name: string, close: (remainingMs: number) => Promise<unknown>];

export interface CloseOnSignalsOptions {
  /** The whole shutdown's budget, from the signal to the exit (SHUTDOWN_TIMEOUT_MS). */
  timeoutMs: number;
  /** @default process.exit */
  exit?: (code: number) => void;
}

/**
 * Thrown by a close step that could not close cleanly in the time it had and gave up: it dropped a
 * connection instead of closing it, or left work in flight to be retried.
 */
export class ShutdownDeadlineError extends Error {
  override name = "ShutdownDeadlineError";
}

const OVERRAN = Symbol("overran");

/** How a run of close steps ended. */
export interface CloseStepsOutcome {
  /** Steps that threw something other than ShutdownDeadlineError. */
  failed: string[];
  /** Steps that threw ShutdownDeadlineError: they gave something up to stay in time. */
  cutShort: string[];
  /** The step still running at the deadline, and the steps not run after it; null when every step ran. */
  overran: { step: string; skipped: string[] } | null;
}

/**
 * Runs `steps` in order within `timeoutMs`, each handed what is left of it. Never rejects: a step that
 * throws is logged and counted, and the next one runs; a step still running at the deadline is left
 * running and the rest skipped.
 */
export async function runCloseSteps(logger: Logger, steps: CloseStep[], timeoutMs: number): Promise<CloseStepsOutcome> {
  const deadline = performance.now() + timeoutMs;
  const outcome: CloseStepsOutcome = { failed: [], cutShort: [], overran: null };
  for (const [index, [name, close]] of steps.entries()) {
    const remainingMs = Math.max(0, Math.floor(deadline - performance.now()));
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        close(remainingMs),
        new Promise<typeof OVERRAN>((resolve) => {
          timer = setTimeout(() => resolve(OVERRAN), remainingMs);
        }),
      ]);
      if (result === OVERRAN) {
        outcome.overran = { step: name, skipped: steps.slice(index + 1).map(([next]) => next) };
        return outcome;
      }
      logger.debug({ step: name }, "closed");
    } catch (error) {
      if (error instanceof ShutdownDeadlineError) {
        outcome.cutShort.push(name);
        logger.warn({ step: name, reason: error.message }, "close step cut short");
      } else {
        outcome.failed.push(name);
        logger.error({ step: name, err: error }, "close step failed");
      }
    } finally {
      clearTimeout(timer);
    }
  }
  return outcome;
}

export function closeOnSignals(logger: Logger, steps: CloseStep[], options: CloseOnSignalsOptions): void {
  const { timeoutMs, exit = process.exit } = options;
  let closing = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, "second signal: exiting now");
      exit(1);
      return;
    }
    closing = true;
    logger.info({ signal, timeoutMs }, "shutting down");
    const { failed, cutShort, overran } = await runCloseSteps(logger, steps, timeoutMs);
    if (overran) {
      logger.error({ ...overran, timeoutMs }, "shutdown deadline reached: exiting without waiting");
      exit(1);
      return;
    }
    const code = failed.length > 0 || cutShort.length > 0 ? 1 : 0;
    logger.info({ failed: failed.length > 0, cutShort, exitCode: code }, "shutdown complete");
    exit(code);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
