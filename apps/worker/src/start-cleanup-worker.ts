/**
 * `startCleanupWorker`: the cleanup worker inside a server's own process, for
 * small deployments where one more process is not worth it. The separate
 * `multisession-worker` process stays the default: it scales and restarts
 * apart from the API, and a slow sweep never shares an event loop with
 * requests.
 *
 * Ownership: the worker uses the caller's clients (and queue) as they are and
 * never closes them; what it makes itself (connections from a URL, a
 * duplicate for BullMQ, its queue, its HTTP server) it closes in `close()`,
 * in the bin's order: sweeper, consumer, queue, HTTP server, connections.
 * Options are checked once, before anything connects: a bad one throws
 * session-core's InvalidOptionError naming it.
 */
import { closeRedis, connectRedis, DEFAULT_QUEUE_PREFIX, hasHashTag, runCloseSteps } from "@multisession/service-kit";
import { InvalidOptionError } from "@multisession/session-core";
import type { Queue } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { validate as isValidCron } from "node-cron";
import type { Logger } from "pino";
import type { ReadinessCheck } from "./http/server.js";
import type { SweepSummary } from "./metrics.js";
import { DEFAULT_SWEEP_CRON, type IntegerSettingName, WORKER_SETTINGS } from "./settings.js";
import { createWorkerService, type HttpSettings, type SweepSettings } from "./worker-service.js";

export interface StartCleanupWorkerOptions {
  /**
   * Redis for session data and the sweep leases: the caller's ioredis client (a `Redis` or a `Cluster`,
   * ideally made with session-core's `SESSION_CONNECTION_OPTIONS`), never closed by the worker; or a
   * `redis://` / `rediss://` URL of one server, which the worker connects to and closes itself.
   */
  redis: Redis | Cluster | string;
  /**
   * BullMQ's connection, the caller's (it must have `maxRetriesPerRequest: null`). When unset, the worker
   * makes its own: from the URL, or a duplicate of `redis` with BullMQ's settings, closed by `close()`.
   */
  queueConnection?: Redis | Cluster;
  /**
   * The caller's `session-cleanup` queue (the one its SessionStore enqueues on), for the metrics and the
   * dashboard; its prefix is the worker's. When unset, the worker opens its own queue object.
   */
  queue?: Queue;
  /** pino logger the worker logs to (a child of the server's, say). */
  logger: Logger;
  /**
   * session-core's `prefix`: must match the API's SessionStore.
   * @default ""
   */
  sessionPrefix?: string;
  /**
   * BullMQ's key prefix for `session-cleanup`: must match the API's queue. Ignored when `queue` is given.
   * @default "bull" ("{bull}" on a Redis Cluster, where it must hold a hash tag)
   */
  queuePrefix?: string;
  /**
   * Deletion jobs processed at once (1 to 1000).
   * @default 10
   */
  concurrency?: number;
  /** The sweeper's schedule and pace; the same meaning and bounds as the bin's SWEEP_* variables. */
  sweep?: {
    /** @default "* * * * *" (every minute; node-cron, a sixth leading field gives seconds) */
    cron?: string;
    /** @default 500 */
    batchSize?: number;
    /** @default 1 */
    concurrency?: number;
    /** @default 50 */
    dutyPercent?: number;
    /** @default 20000 */
    budgetMs?: number;
    /** Must be the same in every process that sweeps. @default 16 */
    slotGroups?: number;
    /** @default 30000 */
    leaseMs?: number;
  };
  /**
   * Serve /healthz, /readyz, /metrics, /stats (and the dashboard) on a port of its own. Unset: no HTTP
   * server; `readiness()` on the handle gives the same checks to the server's own endpoint.
   */
  http?: {
    /** 0 picks a free port (see `url`). */
    port: number;
    /** @default "127.0.0.1" */
    host?: string;
    /** Basic-auth credentials for /admin/queues (password of 8 characters or more); unset: no dashboard. */
    dashboard?: { user: string; password: string };
  };
}

export interface CleanupWorkerHandle {
  /** `http://host:port` of the worker's HTTP server; null without `http`. */
  readonly url: string | null;
  /** The /readyz checks: every connection the worker needs, and whether the consumer runs. */
  readiness(): Promise<ReadinessCheck>;
  /** One sweep now, outside the schedule, through the same leases as the scheduled ones. */
  sweep(): Promise<SweepSummary>;
  /**
   * Stops the schedule, lets the sweep and the jobs in flight finish, and closes what the worker made,
   * all within `timeoutMs`. Resolves true when everything closed cleanly, false when something had to
   * be cut short (logged; jobs cut off are retried once their lock expires). Never rejects; a second
   * call returns the first's promise.
   * @param timeoutMs @default 10000
   */
  close(timeoutMs?: number): Promise<boolean>;
}

/** Starts the cleanup consumer and the sweeper in this process. Resolves once they run. */
export async function startCleanupWorker(options: StartCleanupWorkerOptions): Promise<CleanupWorkerHandle> {
  const settings = checkOptions(options);
  const { logger } = options;
  const owned: (Redis | Cluster)[] = [];
  let sessions: Redis | Cluster;
  let queueConnection: Redis | Cluster;
  if (typeof options.redis === "string") {
    const connections = connectRedis({ cluster: false, url: options.redis }, logger, "multisession-worker", {
      exitOnClusterNode: false,
    });
    owned.push(connections.sessions, connections.queue);
    await connections.checked;
    sessions = connections.sessions;
    queueConnection = options.queueConnection ?? connections.queue;
    await refuseClusterNode(connections.sessions, owned);
  } else {
    sessions = options.redis;
    queueConnection = options.queueConnection ?? bullmqDuplicate(options.redis);
    if (!options.queueConnection) owned.push(queueConnection);
  }

  const service = await createWorkerService({
    sessions,
    queueConnection,
    ...(options.queue ? { queue: options.queue } : {}),
    queuePrefix: settings.queuePrefix,
    sessionPrefix: options.sessionPrefix ?? "",
    concurrency: settings.concurrency,
    sweep: settings.sweep,
    http: settings.http,
    logger,
  });
  let url: string | null;
  try {
    url = await service.start();
  } catch (error) {
    // The port was taken, say: close what was made before the caller sees the error.
    await runCloseSteps(logger, [...service.closeSteps(2_000), closeOwned(owned)], 2_000);
    throw error;
  }
  logger.info({ url, sweepCron: settings.sweep.cron, concurrency: settings.concurrency }, "cleanup worker started");

  let closing: Promise<boolean> | undefined;
  return {
    url,
    readiness: () => service.readiness(),
    sweep: () => service.sweep(),
    close(timeoutMs = WORKER_SETTINGS.shutdownTimeoutMs.default) {
      if (closing === undefined) {
        closing = runCloseSteps(logger, [...service.closeSteps(timeoutMs), closeOwned(owned)], timeoutMs).then(
          ({ failed, cutShort, overran }) => {
            const clean = failed.length === 0 && cutShort.length === 0 && overran === null;
            logger.info({ failed, cutShort, overran, clean }, "cleanup worker closed");
            return clean;
          },
        );
      }
      return closing;
    },
  };
}

interface CheckedOptions {
  queuePrefix: string;
  concurrency: number;
  sweep: SweepSettings;
  http: HttpSettings | null;
}

function checkOptions(options: StartCleanupWorkerOptions): CheckedOptions {
  if (options === null || typeof options !== "object") throw new InvalidOptionError("", "an object", options);
  const { redis, queueConnection, logger, sweep = {}, http } = options;
  if (typeof redis === "string") {
    if (!/^rediss?:\/\/./.test(redis)) throw new InvalidOptionError("redis", "a redis:// or rediss:// URL", redis);
  } else if (!(redis instanceof Redis || redis instanceof Cluster)) {
    throw new InvalidOptionError("redis", "an ioredis Redis or Cluster, or a redis:// URL", redis);
  }
  if (queueConnection !== undefined && !(queueConnection instanceof Redis || queueConnection instanceof Cluster)) {
    throw new InvalidOptionError("queueConnection", "an ioredis Redis or Cluster", queueConnection);
  }
  if (typeof logger?.child !== "function") throw new InvalidOptionError("logger", "a pino logger", logger);

  const cluster = redis instanceof Cluster;
  const queuePrefix =
    options.queue?.opts.prefix ??
    options.queuePrefix ??
    (cluster ? DEFAULT_QUEUE_PREFIX.cluster : DEFAULT_QUEUE_PREFIX.single);
  if (typeof queuePrefix !== "string" || queuePrefix === "") {
    throw new InvalidOptionError("queuePrefix", "a non-empty string", queuePrefix);
  }
  if (cluster && !hasHashTag(queuePrefix)) {
    throw new InvalidOptionError("queuePrefix", "a prefix with a {hash tag} on a Redis Cluster", queuePrefix);
  }
  const cron = sweep.cron ?? DEFAULT_SWEEP_CRON;
  if (typeof cron !== "string" || !isValidCron(cron)) {
    throw new InvalidOptionError("sweep.cron", "a valid node-cron expression", cron);
  }
  let httpSettings: HttpSettings | null = null;
  if (http !== undefined) {
    const port = http.port;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new InvalidOptionError("http.port", "an integer from 0 to 65535", port);
    }
    const dashboard = http.dashboard ?? null;
    if (dashboard !== null && (typeof dashboard.user !== "string" || dashboard.user === "")) {
      throw new InvalidOptionError("http.dashboard.user", "a non-empty string", dashboard.user);
    }
    if (dashboard !== null && (typeof dashboard.password !== "string" || dashboard.password.length < 8)) {
      throw new InvalidOptionError("http.dashboard.password", "a string of 8 characters or more", "[redacted]");
    }
    httpSettings = { port, host: http.host ?? "127.0.0.1", dashboard };
  }
  return {
    queuePrefix,
    concurrency: integer("concurrency", options.concurrency, "concurrency"),
    sweep: {
      cron,
      batchSize: integer("sweep.batchSize", sweep.batchSize, "sweepBatchSize"),
      concurrency: integer("sweep.concurrency", sweep.concurrency, "sweepConcurrency"),
      dutyPercent: integer("sweep.dutyPercent", sweep.dutyPercent, "sweepDutyPercent"),
      budgetMs: integer("sweep.budgetMs", sweep.budgetMs, "sweepBudgetMs"),
      slotGroups: integer("sweep.slotGroups", sweep.slotGroups, "sweepSlotGroups"),
      leaseMs: integer("sweep.leaseMs", sweep.leaseMs, "sweepLeaseMs"),
    },
    http: httpSettings,
  };
}

function integer(option: string, value: number | undefined, setting: IntegerSettingName): number {
  const { default: fallback, min, max } = WORKER_SETTINGS[setting];
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * BullMQ's own connection beside the caller's client: the same server(s) and credentials, without what
 * bounds a session connection. BullMQ waits on blocking reads longer than SESSION_CONNECTION_OPTIONS'
 * command timeout, and needs its commands queued and resent across a reconnection.
 */
const BULLMQ_CONNECTION = Object.freeze({
  maxRetriesPerRequest: null,
  commandTimeout: undefined,
  enableAutoPipelining: false,
  autoResendUnfulfilledCommands: true,
  connectionName: "multisession-worker:queue",
});

function bullmqDuplicate(client: Redis | Cluster): Redis | Cluster {
  if (client instanceof Cluster) {
    const { enableAutoPipelining, ...perNode } = BULLMQ_CONNECTION;
    return client.duplicate([], {
      enableAutoPipelining,
      enableOfflineQueue: true,
      redisOptions: { ...client.options.redisOptions, ...perNode },
    });
  }
  return client.duplicate({ ...BULLMQ_CONNECTION });
}

/** A URL that names a node of a Redis Cluster: a plain client there fails with MOVED and CROSSSLOT. */
async function refuseClusterNode(client: Redis | Cluster, owned: (Redis | Cluster)[]): Promise<void> {
  const info = await client.info("cluster").catch(() => "");
  if (!/^cluster_enabled:1\r?$/m.test(info)) return;
  for (const connection of owned) connection.disconnect();
  throw new InvalidOptionError(
    "redis",
    "the URL of a single Redis server (pass Cluster clients for a cluster)",
    "a cluster node's URL",
  );
}

function closeOwned(owned: (Redis | Cluster)[]): [string, (ms: number) => Promise<unknown>] {
  return ["redis", (ms) => Promise.all(owned.map((client) => closeRedis(client, ms / 2)))];
}
