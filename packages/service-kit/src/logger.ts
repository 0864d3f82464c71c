/**
 * The process logger of every multisession service: JSON lines in production,
 * pretty output in development. Credentials are redacted wherever a request,
 * a header or a body might carry them.
 */
import { type Logger, pino } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function createLogger(options: { name: string; level: LogLevel; production: boolean }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'res.headers["set-cookie"]',
        "*.password",
        "*.token",
        "token",
      ],
      censor: "[redacted]",
    },
    ...(options.production
      ? {}
      : { transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l" } } }),
  });
}
