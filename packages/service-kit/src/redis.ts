/**
 * A service's two Redis connections: one for session data, with
 * session-core's SESSION_CONNECTION_OPTIONS (reads auto-pipelined, scripts
 * sent as they come, every command bounded by `commandTimeoutMs`, no resend
 * of a command whose reply was lost), and one for BullMQ, which needs
 * `maxRetriesPerRequest: null` and no auto-pipelining. Both reconnect by
 * themselves after an outage, at most half a second after Redis answers
 * again; errors are logged at most every few seconds.
 */
import { reconnectDelayMs, SESSION_CONNECTION_OPTIONS } from "@multisession/session-core";
import { Redis } from "ioredis";
import type { Logger } from "pino";

const ERROR_LOG_INTERVAL_MS = 5_000;

export interface ConnectRedisOptions {
  /** The session connection's command timeout (REDIS_COMMAND_TIMEOUT_MS); session-core's 1 s when unset. */
  commandTimeoutMs?: number;
}

export function connectRedis(url: string, logger: Logger, service: string, options: ConnectRedisOptions = {}) {
  const sessions = new Redis(url, {
    ...SESSION_CONNECTION_OPTIONS,
    commandTimeout: options.commandTimeoutMs ?? SESSION_CONNECTION_OPTIONS.commandTimeout,
    connectionName: `${service}:sessions`,
  });
  const queue = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelayMs,
    maxLoadingRetryTime: SESSION_CONNECTION_OPTIONS.maxLoadingRetryTime,
    connectionName: `${service}:queue`,
  });
  for (const [name, client] of [
    ["sessions", sessions],
    ["queue", queue],
  ] as const) {
    let lastLogged = 0;
    client.on("error", (error) => {
      if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return;
      lastLogged = Date.now();
      logger.warn({ connection: name, err: { message: error.message } }, "redis connection error; reconnecting");
    });
    client.on("ready", () => {
      if (lastLogged > 0) logger.info({ connection: name }, "redis connection restored");
      lastLogged = 0;
    });
  }
  return { sessions, queue };
}

/** True when Redis answers PING within `timeoutMs`. */
export async function redisAnswers(client: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (client.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      client.ping().then((reply) => reply === "PONG"),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
