/**
 * The worker's configuration, read once from the environment and validated
 * before anything starts. A bad value stops the process with one message
 * naming the variable (ConfigError).
 */
import { validate as isValidCron } from "node-cron";

export interface WorkerConfig {
  /** Redis for sessions and the queue. */
  redisUrl: string;
  /** session-core's key namespace; must match the API servers'. */
  sessionPrefix: string;
  /** BullMQ's key prefix for the session-cleanup queue; must match the API servers'. */
  queuePrefix: string;
  /** When the sweeper runs (node-cron syntax, seconds allowed). */
  sweepCron: string;
  /** Users claimed from the activity set per batch. */
  sweepBatchSize: number;
  /** A sweep stops starting new batches after this long; the rest waits for the next run. */
  sweepBudgetMs: number;
  /** How long the sweep lease lives without renewal, i.e. how soon another replica takes over from a dead one. */
  sweepLeaseMs: number;
  /** Deletion jobs processed at once. */
  concurrency: number;
  httpPort: number;
  httpHost: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Basic-auth credentials for /admin/queues; null keeps the dashboard off. */
  dashboard: { user: string; password: string } | null;
  /** How long shutdown waits for the in-flight sweep and jobs. */
  shutdownTimeoutMs: number;
  /** JSON logs in production, pretty ones otherwise. */
  production: boolean;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const dashboardUser = optional(env, "DASHBOARD_USER");
  const dashboardPassword = optional(env, "DASHBOARD_PASSWORD");
  if ((dashboardUser === undefined) !== (dashboardPassword === undefined)) {
    const missing = dashboardUser === undefined ? "DASHBOARD_USER" : "DASHBOARD_PASSWORD";
    throw new ConfigError(missing, "must be set too: the dashboard needs both DASHBOARD_USER and DASHBOARD_PASSWORD");
  }
  if (dashboardPassword !== undefined && dashboardPassword.length < 8) {
    throw new ConfigError("DASHBOARD_PASSWORD", "must be at least 8 characters");
  }

  const sweepCron = optional(env, "SWEEP_CRON") ?? "* * * * *";
  if (!isValidCron(sweepCron)) {
    throw new ConfigError("SWEEP_CRON", `is not a valid cron expression (received ${JSON.stringify(sweepCron)})`);
  }

  const logLevel = (optional(env, "LOG_LEVEL") ?? "info") as WorkerConfig["logLevel"];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      "LOG_LEVEL",
      `must be one of ${LOG_LEVELS.join(", ")} (received ${JSON.stringify(logLevel)})`,
    );
  }

  return {
    redisUrl: redisUrl(env),
    sessionPrefix: optional(env, "SESSION_PREFIX") ?? "",
    queuePrefix: optional(env, "QUEUE_PREFIX") ?? "bull",
    sweepCron,
    sweepBatchSize: integer(env, "SWEEP_BATCH_SIZE", 500, 1, 10_000),
    sweepBudgetMs: integer(env, "SWEEP_BUDGET_MS", 20_000, 100, 3_600_000),
    sweepLeaseMs: integer(env, "SWEEP_LEASE_MS", 30_000, 1_000, 3_600_000),
    concurrency: integer(env, "CONCURRENCY", 10, 1, 1_000),
    httpPort: integer(env, "HTTP_PORT", 8081, 0, 65_535),
    httpHost: optional(env, "HTTP_HOST") ?? "0.0.0.0",
    logLevel,
    dashboard: dashboardUser && dashboardPassword ? { user: dashboardUser, password: dashboardPassword } : null,
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    production: env.NODE_ENV === "production",
  };
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (received ${JSON.stringify(raw)})`);
  }
  return value;
}

function redisUrl(env: NodeJS.ProcessEnv): string {
  const raw = optional(env, "REDIS_URL") ?? "redis://127.0.0.1:6379";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("REDIS_URL", "is not a URL (expected redis://host:port or rediss://host:port)");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError("REDIS_URL", `must use redis: or rediss: (received ${url.protocol})`);
  }
  return raw;
}
