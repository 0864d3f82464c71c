/**
 * A service's two Redis connections: one for session data and one for
 * BullMQ, which needs `maxRetriesPerRequest: null` and no auto-pipelining.
 * Both reconnect by themselves after an outage; errors are logged at most
 * every few seconds.
 *
 * Auto-pipelining on the session connection suits an API server (many small
 * scripts per tick, one write for all). A worker sending a few large cleaning
 * scripts at a time turns it off: a batch sent in one write is answered in
 * one write, so the client and Redis take turns instead of overlapping
 * (measured: 75k against 96k swept users/s, see docs/benchmarks.md).
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";

const ERROR_LOG_INTERVAL_MS = 5_000;

export function connectRedis(url: string, logger: Logger, service: string, options: { autoPipelining?: boolean } = {}) {
  const sessions = new Redis(url, {
    enableAutoPipelining: options.autoPipelining ?? true,
    maxRetriesPerRequest: 2,
    connectionName: `${service}:sessions`,
  });
  const queue = new Redis(url, { maxRetriesPerRequest: null, connectionName: `${service}:queue` });
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
