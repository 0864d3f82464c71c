/**
 * Reading a service's configuration from the environment. Each reader
 * validates one variable and throws ConfigError naming it, so a bad value
 * stops start-up with one clear line.
 */
import { LOG_LEVELS, type LogLevel } from "./logger.js";

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/** The trimmed value, or undefined when unset or blank. */
export function readString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (received ${JSON.stringify(raw)})`);
  }
  return value;
}

export function readRedisUrl(env: NodeJS.ProcessEnv, name = "REDIS_URL"): string {
  const raw = readString(env, name) ?? "redis://127.0.0.1:6379";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, "is not a URL (expected redis://host:port or rediss://host:port)");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError(name, `must use redis: or rediss: (received ${url.protocol})`);
  }
  return raw;
}

/** One node of a Redis Cluster, as ioredis's `Cluster` takes its startup nodes. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** Where a service's Redis is: one server, or a Redis Cluster reached through some of its nodes. */
export type RedisTarget =
  | { readonly cluster: false; readonly url: string }
  | { readonly cluster: true; readonly nodes: readonly ClusterNode[] };

/** `host:port`, `[ipv6]:port`. */
const NODE_ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/;

/**
 * REDIS_CLUSTER_NODES (`host:port,host:port`, some or all of a cluster's nodes) for a Redis Cluster,
 * else REDIS_URL for one server. Both set is an error: which one was meant cannot be guessed.
 */
export function readRedisTarget(env: NodeJS.ProcessEnv): RedisTarget {
  const raw = readString(env, "REDIS_CLUSTER_NODES");
  if (raw === undefined) return { cluster: false, url: readRedisUrl(env) };
  if (readString(env, "REDIS_URL") !== undefined) {
    throw new ConfigError(
      "REDIS_CLUSTER_NODES",
      "and REDIS_URL are both set: set one (a cluster's nodes, or one server)",
    );
  }
  const nodes = raw.split(",").map((entry) => {
    const match = NODE_ADDRESS.exec(entry.trim());
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65_535) {
      throw new ConfigError(
        "REDIS_CLUSTER_NODES",
        `must be a comma-separated list of host:port (received ${JSON.stringify(entry.trim())})`,
      );
    }
    return { host: match[1] ?? (match[2] as string), port };
  });
  return { cluster: true, nodes };
}

/** The queue prefix when QUEUE_PREFIX is unset: BullMQ's own on one server, the same in a hash tag on a cluster. */
export const DEFAULT_QUEUE_PREFIX = Object.freeze({ single: "bull", cluster: "{bull}" });

/**
 * QUEUE_PREFIX, BullMQ's key prefix. A BullMQ queue's scripts touch many of its keys at once, so on a
 * Redis Cluster they must share one slot: the prefix must carry a hash tag, `{…}` with something inside
 * (Redis hashes the first such tag of a key).
 */
export function readQueuePrefix(env: NodeJS.ProcessEnv, cluster: boolean): string {
  const prefix = readString(env, "QUEUE_PREFIX");
  if (prefix === undefined) return cluster ? DEFAULT_QUEUE_PREFIX.cluster : DEFAULT_QUEUE_PREFIX.single;
  if (cluster && !hasHashTag(prefix)) {
    throw new ConfigError(
      "QUEUE_PREFIX",
      `must contain a {hash tag} on a Redis Cluster, so that all of the queue's keys are in one slot (received ${JSON.stringify(prefix)}; e.g. "{bull}")`,
    );
  }
  return prefix;
}

/**
 * Whether a key has a Redis Cluster hash tag, by Redis's rule: the first `{`, then the first `}` after it,
 * with at least one character between. BullMQ's prefix needs one on a cluster (readQueuePrefix, and
 * the worker's startCleanupWorker).
 */
export function hasHashTag(key: string): boolean {
  const open = key.indexOf("{");
  return open >= 0 && key.indexOf("}", open + 1) > open + 1;
}

/**
 * SESSION_PREFIX, session-core's `prefix`, checked here by session-core's own rule (at most 64
 * characters, no braces, no control characters) so that a bad one stops start-up with exit 78 rather
 * than a stack trace: the user's id is the hash tag of every key, and a brace before it would move it.
 */
export function readSessionPrefix(env: NodeJS.ProcessEnv): string {
  const prefix = readString(env, "SESSION_PREFIX") ?? "";
  if (prefix.length > 64 || /[{}\p{Cc}]/u.test(prefix)) {
    throw new ConfigError(
      "SESSION_PREFIX",
      `must be at most 64 characters without braces or control characters (received ${JSON.stringify(prefix)})`,
    );
  }
  return prefix;
}

/** REDIS_COMMAND_TIMEOUT_MS: how long one Redis command may take before the call fails (50 ms to 60 s; 1 s default). */
export function readCommandTimeout(env: NodeJS.ProcessEnv, name = "REDIS_COMMAND_TIMEOUT_MS"): number {
  return readInteger(env, name, 1_000, 50, 60_000);
}

export function readLogLevel(env: NodeJS.ProcessEnv, name = "LOG_LEVEL"): LogLevel {
  const level = (readString(env, name) ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(name, `must be one of ${LOG_LEVELS.join(", ")} (received ${JSON.stringify(level)})`);
  }
  return level;
}

/** Loads a configuration or, on ConfigError, prints one line and exits 78 (EX_CONFIG). */
export function loadOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service}: invalid configuration: ${error.message}`);
    process.exit(78);
  }
}
