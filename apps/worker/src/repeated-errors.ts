/**
 * Repeated errors, logged once per interval rather than once each. When Redis
 * is in trouble every job and every tick fails the same way, and a line per
 * failure buries the log (a worker pointed at the wrong Redis once wrote
 * 35,000 lines in 7 s). The first failure of a kind is logged in full; the
 * same kind again within the interval is only counted, and at the end of the
 * interval one line says how many times it repeated (`repeated`), so a
 * lasting failure costs one line per interval. A kind that did not come back
 * during an interval is forgotten: its next failure is logged in full again.
 *
 * A kind is the log level and message with the error's code and message,
 * digits set aside: a MOVED or a timeout names a slot, an address or a
 * duration that changes from one failure to the next, and is still the same
 * failure. At most MAX_KINDS kinds are tracked at once; failures of further
 * kinds are counted together and reported as `otherKinds`.
 */
import type { Logger } from "pino";

/** How long identical errors are counted before their summary line: a few lines a minute for a lasting failure. */
export const REPEAT_INTERVAL_MS = 10_000;
const MAX_KINDS = 100;

type Level = "warn" | "error";

export interface RepeatedErrors {
  /** Logs at `level` unless the same failure was logged in this interval; then counts it. */
  log(level: Level, fields: { err: unknown } & Record<string, unknown>, msg: string): void;
  /** Writes the summaries of the current interval now (at shutdown) and stops the timer. */
  flush(): void;
}

interface Kind {
  level: Level;
  msg: string;
  /** The latest repeat's fields, for the summary. */
  fields: Record<string, unknown>;
  repeated: number;
}

export function repeatedErrors(logger: Logger, intervalMs = REPEAT_INTERVAL_MS): RepeatedErrors {
  const kinds = new Map<string, Kind>();
  let otherKinds = 0;
  let timer: NodeJS.Timeout | undefined;

  function summarize(): void {
    for (const [key, kind] of kinds) {
      if (kind.repeated === 0) {
        kinds.delete(key);
        continue;
      }
      logger[kind.level](
        { ...kind.fields, repeated: kind.repeated, intervalMs },
        `${kind.msg} (repeated ${kind.repeated} times)`,
      );
      kind.repeated = 0;
    }
    if (otherKinds > 0) {
      logger.warn({ otherKinds, intervalMs }, `${otherKinds} more errors of other kinds not logged`);
      otherKinds = 0;
    }
    if (kinds.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    log(level, fields, msg) {
      const key = kindOf(level, msg, fields.err);
      const kind = kinds.get(key);
      if (kind) {
        kind.repeated++;
        kind.fields = fields;
        return;
      }
      if (kinds.size >= MAX_KINDS) {
        otherKinds++;
        return;
      }
      kinds.set(key, { level, msg, fields, repeated: 0 });
      logger[level](fields, msg);
      if (!timer) {
        timer = setInterval(summarize, intervalMs);
        timer.unref();
      }
    },
    flush() {
      summarize();
      kinds.clear();
      clearInterval(timer);
      timer = undefined;
    },
  };
}

function kindOf(level: Level, msg: string, err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : String(err);
  return [level, msg, String(code ?? ""), text.replace(/\d+/g, "#")].join("\u0000");
}
