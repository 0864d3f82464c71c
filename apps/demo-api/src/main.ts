/**
 * The demo API process: wiring only. Closes on SIGTERM/SIGINT in this order:
 * HTTP server (in-flight requests finish), queue, the session store (its
 * own connections for durable revocations, if any), Redis.
 */
import type { AddressInfo } from "node:net";
import {
  closeOnSignals,
  closeRedis,
  clusterStateOk,
  connectRedis,
  createLogger,
  gracefulClose,
  loadOrExit,
  redisAnswers,
} from "@multisession/service-kit";
import { CLEANUP_QUEUE_NAME, SessionStore } from "@multisession/session-core";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { loadConfig } from "./config.js";
import { createServer } from "./server.js";

const config = loadOrExit("multisession demo-api", () => loadConfig());
const logger = createLogger({ name: "multisession-demo-api", level: config.logLevel, production: config.production });
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

const redis = connectRedis(config.redis, logger, "multisession-demo-api", {
  commandTimeoutMs: config.redisCommandTimeoutMs,
});
// A REDIS_URL that names a cluster node stops the process here, before BullMQ sends its first command.
await redis.checked;
const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: redis.queue, prefix: config.queuePrefix });
queue.on("error", (error) => logger.debug({ err: { message: error.message } }, "queue error"));
const store = new SessionStore({
  redis: redis.sessions,
  queue,
  prefix: config.sessionPrefix,
  logger,
  ...Object.fromEntries(Object.entries(config.session).filter(([, value]) => value !== undefined)),
});

const server = await createServer({
  store,
  readiness: async () => {
    // On a cluster, `cluster` too: every master says cluster_state:ok.
    const [sessions, queued, cluster] = await Promise.all([
      redisAnswers(redis.sessions),
      redisAnswers(redis.queue),
      redis.sessions instanceof Cluster ? clusterStateOk(redis.sessions) : undefined,
    ]);
    const checks = { redis: sessions, queue: queued, ...(cluster === undefined ? {} : { cluster }) };
    return { ready: Object.values(checks).every(Boolean), checks };
  },
  logger,
  demoPassword: config.demoPassword,
  secureCookies: config.secureCookies,
  throttle: { redis: redis.sessions, prefix: config.sessionPrefix, limits: config.throttle },
});
const closeHttp = gracefulClose(server);
await server.listen({ port: config.httpPort, host: config.httpHost });
const { port } = server.server.address() as AddressInfo;
logger.info({ port, url: `http://127.0.0.1:${port}/`, redisCluster: config.redis.cluster }, "api started");

closeOnSignals(
  logger,
  [
    ["http", (ms) => closeHttp(ms / 2)],
    ["queue", () => queue.close()],
    ["store", () => store.close()],
    ["redis", (ms) => Promise.all([closeRedis(redis.sessions, ms / 2), closeRedis(redis.queue, ms / 2)])],
  ],
  { timeoutMs: config.shutdownTimeoutMs },
);
