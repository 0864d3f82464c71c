/**
 * SessionStore options: one frozen table of defaults, one validation pass at
 * construction. Every error names the option and the value received.
 */
import type { Queue } from "bullmq";
import type { Cluster, Redis } from "ioredis";
import { InvalidOptionError } from "./errors.js";

/** What session-core logs through. A pino logger fits; so does anything with these four methods. */
export interface SessionLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type LimitPolicy = "evict-oldest" | "reject";

/**
 * Logouts that survive a failover: after its script, each of `remove`,
 * `revoke`, `removeOthers`, `removeAll` and `rotate` waits (Redis `WAIT`)
 * until `replicas` replicas of the user's master have the write, for at most
 * `timeoutMs`, on connections of the store's own, so no other call waits
 * behind it. Short of that: RevocationNotReplicatedError (the write has
 * happened). README, "Logouts that survive failover".
 */
export interface DurableRevocations {
  /** Replicas that must acknowledge, from 1 to 100 (at most the replicas each master has). */
  replicas: number;
  /** How long to wait for them, from 1 ms to 60 s. */
  timeoutMs: number;
}

/**
 * What `new SessionStore(options)` takes. Only `redis` and `queue` are
 * required; every other field has the default its `@default` tag states
 * (the values are in DEFAULTS). Validated once, at construction:
 * InvalidOptionError names the option and the value received.
 */
export interface SessionStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster`. The caller owns it and closes it.
   * Create it with `{ ...SESSION_CONNECTION_OPTIONS }`.
   */
  redis: Redis | Cluster;
  /** The BullMQ `Queue` named `session-cleanup` that expired reads enqueue deletions on. The caller owns it. */
  queue: Queue;
  /**
   * Namespace put before every key (`<prefix>usersession:{<userId>}`): at
   * most 64 characters, no braces or control characters.
   * @default "" (no namespace)
   */
  prefix?: string;
  /**
   * A session not seen for this long expires (sliding: reads renew it).
   * @default 604800000 (7 days)
   */
  idleTimeoutMs?: number;
  /**
   * No session lives longer than this after its creation, however active.
   * At least idleTimeoutMs.
   * @default 2592000000 (30 days)
   */
  absoluteTimeoutMs?: number;
  /**
   * The least time between two renewal writes of one session; 0 writes on
   * every read. Less than idleTimeoutMs.
   * @default 60000 (1 minute)
   */
  touchIntervalMs?: number;
  /**
   * Live sessions one user may hold at once, from 1 to 1000.
   * @default 10
   */
  maxSessionsPerUser?: number;
  /**
   * At the limit, `create` evicts the least recently seen session
   * (`"evict-oldest"`) or rejects with SessionLimitError (`"reject"`).
   * @default "evict-oldest"
   */
  onLimit?: LimitPolicy;
  /**
   * The largest `data` (and user info), as bytes of JSON, from 2 to 1 MiB.
   * @default 16384 (16 KiB)
   */
  maxDataBytes?: number;
  /**
   * How long a user's hash outlives its latest-expiring session, so a late
   * read still says "expired". Keep it the same on every store of one
   * prefix, the worker's included: the sweep deletes a hash whose TTL minus
   * this is past without reading it.
   * @default 600000 (10 minutes)
   */
  keyGraceMs?: number;
  /**
   * How long an expired read waits for its deletion job to be enqueued
   * before giving up (and logging); the read rejects either way.
   * @default 2000 (2 seconds)
   */
  enqueueTimeoutMs?: number;
  /**
   * The most deletion jobs the cleanup queue may hold pending before expired
   * reads stop adding more (1 to 10,000,000), so a queue with no worker
   * consuming it stays bounded. A read past the bound still rejects with
   * SessionExpiredError; the worker's sweep deletes that session then.
   * @default 10000
   */
  maxPendingDeletionJobs?: number;
  /**
   * A pino logger, or anything with debug/info/warn/error(obj, msg). It
   * never sees a secret or a token.
   * @default a silent logger
   */
  logger?: SessionLogger;
  /**
   * Wait for replicas to acknowledge every logout and rotation (see DurableRevocations).
   * The store then opens connections of its own: call `store.close()` when done.
   * @default undefined (off: a logout returns once the master has it)
   */
  durableRevocations?: DurableRevocations;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The defaults, for code. What each option means, and its default, is
 * documented on its SessionStoreOptions field (options.test.ts checks the
 * two agree).
 */
export const DEFAULTS = Object.freeze({
  prefix: "",
  idleTimeoutMs: 7 * DAY,
  absoluteTimeoutMs: 30 * DAY,
  touchIntervalMs: MINUTE,
  maxSessionsPerUser: 10,
  onLimit: "evict-oldest" as LimitPolicy,
  maxDataBytes: 16 * 1024,
  keyGraceMs: 10 * MINUTE,
  enqueueTimeoutMs: 2_000,
  maxPendingDeletionJobs: 10_000,
});

export const CLEANUP_QUEUE_NAME = "session-cleanup";

export interface ResolvedOptions {
  redis: Redis | Cluster;
  queue: Queue;
  prefix: string;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  touchIntervalMs: number;
  maxSessionsPerUser: number;
  onLimit: LimitPolicy;
  maxDataBytes: number;
  keyGraceMs: number;
  enqueueTimeoutMs: number;
  maxPendingDeletionJobs: number;
  logger: SessionLogger;
  durableRevocations: DurableRevocations | null;
}

const silentLogger: SessionLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Validates `options` once and fills in the defaults. Throws InvalidOptionError. */
export function resolveOptions(options: SessionStoreOptions): ResolvedOptions {
  if (options === null || typeof options !== "object") {
    throw new InvalidOptionError("", "an object with at least redis and queue", options);
  }
  const { redis, queue, logger } = options;
  if (!redis || typeof (redis as Redis).defineCommand !== "function" || typeof (redis as Redis).zadd !== "function") {
    throw new InvalidOptionError("redis", "an ioredis Redis or Cluster client", redis);
  }
  if (!queue || typeof (queue as Queue).add !== "function" || (queue as Queue).name !== CLEANUP_QUEUE_NAME) {
    throw new InvalidOptionError("queue", `a BullMQ Queue named "${CLEANUP_QUEUE_NAME}"`, queue);
  }
  if (logger !== undefined) {
    for (const level of ["debug", "info", "warn", "error"] as const) {
      if (typeof logger?.[level] !== "function") {
        throw new InvalidOptionError("logger", `a pino-like logger with a ${level}() method`, logger);
      }
    }
  }

  const prefix = options.prefix ?? DEFAULTS.prefix;
  // A brace would move the Redis Cluster hash tag; a control character has no place in a key.
  if (typeof prefix !== "string" || prefix.length > 64 || /[{}\p{Cc}]/u.test(prefix)) {
    throw new InvalidOptionError(
      "prefix",
      "a string of at most 64 characters without braces or control characters",
      prefix,
    );
  }

  const resolved: ResolvedOptions = {
    redis,
    queue,
    prefix,
    idleTimeoutMs: duration(options, "idleTimeoutMs", 10),
    absoluteTimeoutMs: duration(options, "absoluteTimeoutMs", 10),
    touchIntervalMs: duration(options, "touchIntervalMs", 0),
    maxSessionsPerUser: integer(options, "maxSessionsPerUser", 1, 1_000),
    onLimit: options.onLimit ?? DEFAULTS.onLimit,
    maxDataBytes: integer(options, "maxDataBytes", 2, 1024 * 1024),
    keyGraceMs: duration(options, "keyGraceMs", 0),
    enqueueTimeoutMs: duration(options, "enqueueTimeoutMs", 1),
    maxPendingDeletionJobs: integer(options, "maxPendingDeletionJobs", 1, 10_000_000),
    logger: logger ?? silentLogger,
    durableRevocations: durableRevocationsOf(options.durableRevocations),
  };

  if (resolved.onLimit !== "evict-oldest" && resolved.onLimit !== "reject") {
    throw new InvalidOptionError("onLimit", '"evict-oldest" or "reject"', options.onLimit);
  }
  if (resolved.absoluteTimeoutMs < resolved.idleTimeoutMs) {
    throw new InvalidOptionError(
      "absoluteTimeoutMs",
      `at least idleTimeoutMs (${resolved.idleTimeoutMs})`,
      resolved.absoluteTimeoutMs,
    );
  }
  if (resolved.touchIntervalMs >= resolved.idleTimeoutMs) {
    throw new InvalidOptionError(
      "touchIntervalMs",
      `less than idleTimeoutMs (${resolved.idleTimeoutMs}), or a session could expire between two renewals`,
      resolved.touchIntervalMs,
    );
  }
  return resolved;
}

function durableRevocationsOf(value: unknown): DurableRevocations | null {
  if (value === undefined) return null;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidOptionError("durableRevocations", "an object such as { replicas: 1, timeoutMs: 100 }", value);
  }
  const { replicas, timeoutMs } = value as { replicas?: unknown; timeoutMs?: unknown };
  for (const [name, field, max] of [
    ["replicas", replicas, 100],
    ["timeoutMs", timeoutMs, 60_000],
  ] as const) {
    if (typeof field !== "number" || !Number.isSafeInteger(field) || field < 1 || field > max) {
      throw new InvalidOptionError(`durableRevocations.${name}`, `an integer from 1 to ${max}`, field);
    }
  }
  return Object.freeze({ replicas: replicas as number, timeoutMs: timeoutMs as number });
}

type NumericOption = {
  [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends number ? K : never;
}[keyof typeof DEFAULTS];

/** A whole number of milliseconds, at least `min`, at most ten years. */
function duration(options: SessionStoreOptions, name: NumericOption, min: number): number {
  return integer(options, name, min, 10 * 365 * DAY);
}

function integer(options: SessionStoreOptions, name: NumericOption, min: number, max: number): number {
  const value = options[name] ?? DEFAULTS[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** Reconnect delays, in ms, after the n-th failed attempt: 50, 100, ... capped at half a second. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(attempt * 50, 500);
}

/**
 * The ioredis options for the session connection, to spread into it:
 * `new Redis(url, { ...SESSION_CONNECTION_OPTIONS })`. They are what
 * session-core is measured with (docs/benchmarks.md) and what bounds its
 * calls when Redis is down, paused or full (README, "When Redis is in
 * trouble").
 *
 * - Reads (one HMGET each) are auto-pipelined: many per write. Scripts are
 *   sent as they come: Redis answers a pipelined batch only once it has run
 *   all of it, so batching scripts makes the client and Redis take turns.
 * - `commandTimeout`: no command waits for Redis longer than a second, so a
 *   call fails with SessionBackendError within about 2 s (at most two
 *   commands in a row) instead of waiting out an outage or a frozen server.
 *   Lower it for tighter latency, raise it if Redis is far away or runs
 *   long scripts; every call then fails later in an incident.
 * - `maxRetriesPerRequest: 1` and a reconnect backoff capped at 500 ms: a
 *   call made while Redis is down fails at once rather than queueing, and
 *   calls succeed again within about half a second of Redis answering.
 * - `maxLoadingRetryTime: 100`: a client that reconnects while Redis is
 *   still loading its AOF checks again every 100 ms instead of sleeping out
 *   Redis's own loading estimate (up to 10 s), which kept clients away for
 *   up to 8.7 s after a restarted Redis answered (docs/reliability.md).
 * - `autoResendUnfulfilledCommands: false`: a command whose reply was lost
 *   is never run a second time behind the caller's back (its second answer
 *   would describe the state the first run left: a logout would say "not
 *   found"). The store retries what is idempotent and reports the rest as
 *   SessionOutcomeUnknownError.
 */
export const SESSION_CONNECTION_OPTIONS = Object.freeze({
  enableAutoPipelining: true,
  autoPipeliningIgnoredCommands: ["evalsha", "eval"],
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  maxRetriesPerRequest: 1,
  retryStrategy: reconnectDelayMs,
  maxLoadingRetryTime: 100,
  autoResendUnfulfilledCommands: false,
});
