/** The process logger: JSON lines in production, pretty output in development. */
import { type Logger, pino } from "pino";
import type { WorkerConfig } from "./config.js";

export function createLogger(config: Pick<WorkerConfig, "logLevel" | "production">): Logger {
  return pino({
    name: "multisession-worker",
    level: config.logLevel,
    // Tokens never reach the worker, but a header or URL copied into a log line must not leak credentials.
    redact: ["req.headers.authorization", "req.headers.cookie", "*.password"],
    ...(config.production
      ? {}
      : { transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l" } } }),
  });
}
