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
