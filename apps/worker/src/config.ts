/**
 * The worker's configuration, read once from the environment and validated
 * before anything starts. A bad value stops the process with one message
 * naming the variable (ConfigError).
 */
import {
  ConfigError,
  type LogLevel,
  type RedisTarget,
  readCommandTimeout,
  readInteger,
  readLogLevel,
  readQueuePrefix,
  readRedisTarget,
  readSessionPrefix,
  readString,
} from "@multisession/service-kit";
import { validate as isValidCron } from "node-cron";
import { DEFAULT_SWEEP_CRON, type IntegerSettingName, WORKER_SETTINGS } from "./settings.js";

export interface WorkerConfig {
  /** Redis for sessions and the queue: one server (REDIS_URL) or a cluster (REDIS_CLUSTER_NODES). */
  redis: RedisTarget;
  /** How long one session-connection command may take before it fails. */
  redisCommandTimeoutMs: number;
  /** session-core's key namespace; must match the API servers'. */
  sessionPrefix: string;
  /** BullMQ's key prefix for the session-cleanup queue; must match the API servers'. With a hash tag on a cluster. */
  queuePrefix: string;
  /** When the sweeper runs (node-cron syntax, seconds allowed). */
  sweepCron: string;
  /** Users claimed from one activity shard per sweep step. */
  sweepBatchSize: number;
  /** Sweep steps in flight at once. */
  sweepConcurrency: number;
  /** Share of a sweep's wall time spent in Redis calls, in percent; it rests the remainder between steps. */
  sweepDutyPercent: number;
  /** A tick's sweep starts no new step after this long; the rest waits for the next tick. */
  sweepBudgetMs: number;
  /** How many slot groups the sweep splits the 16384 hash slots into, each with its own lease; the same on every replica. */
  sweepSlotGroups: number;
  /** How long a group's sweep lease lives without renewal, i.e. how soon another replica takes over from a dead one. */
  sweepLeaseMs: number;
  /** Deletion jobs processed at once. */
  concurrency: number;
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
  /** Basic-auth credentials for /admin/queues; null keeps the dashboard off. */
  dashboard: { user: string; password: string } | null;
  /** How long shutdown waits for the in-flight sweep and jobs. */
  shutdownTimeoutMs: number;
  /** JSON logs in production, pretty ones otherwise. */
  production: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const integer = (variable: string, setting: IntegerSettingName) => {
    const { default: fallback, min, max } = WORKER_SETTINGS[setting];
    return readInteger(env, variable, fallback, min, max);
  };
  const dashboardUser = readString(env, "DASHBOARD_USER");
  const dashboardPassword = readString(env, "DASHBOARD_PASSWORD");
  if ((dashboardUser === undefined) !== (dashboardPassword === undefined)) {
    const missing = dashboardUser === undefined ? "DASHBOARD_USER" : "DASHBOARD_PASSWORD";
    throw new ConfigError(missing, "must be set too: the dashboard needs both DASHBOARD_USER and DASHBOARD_PASSWORD");
  }
  if (dashboardPassword !== undefined && dashboardPassword.length < 8) {
    throw new ConfigError("DASHBOARD_PASSWORD", "must be at least 8 characters");
  }

  const sweepCron = readString(env, "SWEEP_CRON") ?? DEFAULT_SWEEP_CRON;
  if (!isValidCron(sweepCron)) {
    throw new ConfigError("SWEEP_CRON", `is not a valid cron expression (received ${JSON.stringify(sweepCron)})`);
  }

  const redis = readRedisTarget(env);
  return {
    redis,
    redisCommandTimeoutMs: readCommandTimeout(env),
    sessionPrefix: readSessionPrefix(env),
    queuePrefix: readQueuePrefix(env, redis.cluster),
    sweepCron,
    sweepBatchSize: integer("SWEEP_BATCH_SIZE", "sweepBatchSize"),
    sweepConcurrency: integer("SWEEP_CONCURRENCY", "sweepConcurrency"),
    sweepDutyPercent: integer("SWEEP_DUTY_PERCENT", "sweepDutyPercent"),
    sweepBudgetMs: integer("SWEEP_BUDGET_MS", "sweepBudgetMs"),
    sweepSlotGroups: integer("SWEEP_SLOT_GROUPS", "sweepSlotGroups"),
    sweepLeaseMs: integer("SWEEP_LEASE_MS", "sweepLeaseMs"),
    concurrency: integer("CONCURRENCY", "concurrency"),
    httpPort: readInteger(env, "HTTP_PORT", 8081, 0, 65_535),
    httpHost: readString(env, "HTTP_HOST") ?? "0.0.0.0",
    logLevel: readLogLevel(env),
    dashboard: dashboardUser && dashboardPassword ? { user: dashboardUser, password: dashboardPassword } : null,
    shutdownTimeoutMs: integer("SHUTDOWN_TIMEOUT_MS", "shutdownTimeoutMs"),
    production: env.NODE_ENV === "production",
  };
}
