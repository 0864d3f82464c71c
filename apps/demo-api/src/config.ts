/**
 * The demo API's configuration, read once from the environment. Session
 * timeouts are session-core's options; left unset, session-core's defaults
 * apply. SESSION_PREFIX and QUEUE_PREFIX must match the worker's.
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

export interface ApiConfig {
  /** One Redis server (REDIS_URL) or a cluster (REDIS_CLUSTER_NODES). */
  redis: RedisTarget;
  /** How long one Redis command may take before the request answers 503. */
  redisCommandTimeoutMs: number;
  sessionPrefix: string;
  queuePrefix: string;
  httpPort: number;
  httpHost: string;
  /** The one password the demo accepts for any user id. */
  demoPassword: string;
  /** Cookies with the Secure flag (on by default in production: serve over HTTPS there). */
  secureCookies: boolean;
  session: {
    idleTimeoutMs?: number;
    absoluteTimeoutMs?: number;
    touchIntervalMs?: number;
    maxSessionsPerUser?: number;
    /** Logouts and rotations wait for this many replicas (DURABLE_REVOCATION_REPLICAS); unset when 0. */
    durableRevocations?: { replicas: number; timeoutMs: number };
  };
  /** Limits on password and token guessing, counted in Redis and shared by every API process. */
  throttle: ThrottleConfig;
  logLevel: LogLevel;
  /** How long shutdown waits for requests in flight before cutting connections. */
  shutdownTimeoutMs: number;
  production: boolean;
}

export interface ThrottleConfig {
  /** The window every limit counts in: a limit reached is lifted this long after its first counted attempt. */
  windowMs: number;
  /** Login attempts per user id per window; every attempt counts, a success too, and nothing resets it. */
  loginsPerUser: number;
  /** Failed logins per client address per window. */
  loginFailuresPerAddress: number;
  /** Failed token authentications (a token sent and refused) per client address per window. */
  tokenFailuresPerAddress: number;
}

const TEN_YEARS_MS = 10 * 365 * 24 * 60 * 60_000;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const production = env.NODE_ENV === "production";
  const secure = readString(env, "COOKIE_SECURE");
  if (secure !== undefined && secure !== "true" && secure !== "false") {
    throw new ConfigError("COOKIE_SECURE", `must be true or false (received ${JSON.stringify(secure)})`);
  }
  const optionalInteger = (name: string, min: number, max: number) =>
    readString(env, name) === undefined ? undefined : readInteger(env, name, 0, min, max);
  const redis = readRedisTarget(env);
  const durableReplicas = readInteger(env, "DURABLE_REVOCATION_REPLICAS", 0, 0, 100);
  const durableTimeoutMs = readInteger(env, "DURABLE_REVOCATION_TIMEOUT_MS", 500, 1, 60_000);
  return {
    redis,
    redisCommandTimeoutMs: readCommandTimeout(env),
    sessionPrefix: readSessionPrefix(env),
    queuePrefix: readQueuePrefix(env, redis.cluster),
    httpPort: readInteger(env, "HTTP_PORT", 3000, 0, 65_535),
    httpHost: readString(env, "HTTP_HOST") ?? "0.0.0.0",
    demoPassword: readString(env, "DEMO_PASSWORD") ?? "demo",
    secureCookies: secure === undefined ? production : secure === "true",
    session: {
      idleTimeoutMs: optionalInteger("SESSION_IDLE_TIMEOUT_MS", 10, TEN_YEARS_MS),
      absoluteTimeoutMs: optionalInteger("SESSION_ABSOLUTE_TIMEOUT_MS", 10, TEN_YEARS_MS),
      touchIntervalMs: optionalInteger("SESSION_TOUCH_INTERVAL_MS", 0, TEN_YEARS_MS),
      maxSessionsPerUser: optionalInteger("MAX_SESSIONS_PER_USER", 1, 1_000),
      durableRevocations:
        durableReplicas === 0 ? undefined : { replicas: durableReplicas, timeoutMs: durableTimeoutMs },
    },
    throttle: {
      windowMs: readInteger(env, "THROTTLE_WINDOW_MS", 15 * 60_000, 1_000, 24 * 60 * 60_000),
      loginsPerUser: readInteger(env, "THROTTLE_LOGINS_PER_USER", 10, 1, 1_000_000),
      loginFailuresPerAddress: readInteger(env, "THROTTLE_LOGIN_FAILURES_PER_ADDRESS", 100, 1, 1_000_000),
      tokenFailuresPerAddress: readInteger(env, "THROTTLE_TOKEN_FAILURES_PER_ADDRESS", 100, 1, 1_000_000),
    },
    logLevel: readLogLevel(env),
    shutdownTimeoutMs: readInteger(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    production,
  };
}
