/**
 * Clean shutdown on SIGTERM or SIGINT: run the close steps in the order given
 * (each bounded by its own timeout), then exit 0, or 1 if a step failed.
 * A second signal exits at once.
 */
import type { Logger } from "pino";

export type CloseStep = [name: string, close: () => Promise<unknown>];

export function closeOnSignals(logger: Logger, steps: CloseStep[], exit: (code: number) => void = process.exit): void {
  let closing = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, "second signal: exiting now");
      exit(1);
      return;
    }
    closing = true;
    logger.info({ signal }, "shutting down");
    let failed = false;
    for (const [name, close] of steps) {
      try {
        await close();
        logger.debug({ step: name }, "closed");
      } catch (error) {
        failed = true;
        logger.error({ step: name, err: error }, "close step failed");
      }
    }
    logger.info({ failed }, "shutdown complete");
    exit(failed ? 1 : 0);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
