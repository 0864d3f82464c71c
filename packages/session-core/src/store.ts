/**
 * SessionStore: many device sessions per user on Redis.
 *
 * Model. One hash per user, `<prefix>usersession:{<userId>}`; one field per
 * session, named by the SHA-256 of its secret, holding a record with its own
 * expiry (see record.ts); one `#info` field with the user info all of the
 * user's sessions share. Every read-modify-write is one Lua script in
 * `scripts/`, taking "now" from Redis TIME.
 *
 * Invariants.
 * - An expired session is never returned; reading one enqueues one
 *   (deduplicated) deletion job that deletes only if still expired.
 * - The hash's TTL always covers its latest-expiring session plus keyGraceMs,
 *   so no session key is ever left without a TTL, even with no sweeper.
 * - At most maxSessionsPerUser live sessions per user, enforced in the create
 *   script.
 * - The activity sorted set `<prefix>usersession-activity` scores each user
 *   at or before the earliest expiry in their hash, so the sweeper finds,
 *   by score, every user whose hash may hold expired sessions or be dangling.
 *   Writers only ever lower a score (ZADD LT). The sweeper claims due users
 *   (removing them) before cleaning them and re-adds those still live, so a
 *   login racing a sweep is never lost from the set. On a single Redis the
 *   create script scores the user itself, and one sweep script claims,
 *   cleans and re-adds, all atomically. On Redis Cluster the set is in
 *   another slot than the user's hash, so scripts stay single-slot and the
 *   set is written by separate commands right before or after.
 */
import type { Cluster, Redis } from "ioredis";
import {
  DELETE_EXPIRED_SESSION_JOB,
  DELETE_EXPIRED_SESSION_JOB_OPTIONS,
  type DeleteExpiredSessionJobData,
  deduplicationIdOf,
} from "./cleanup-job.js";
import { DurableWriter, NotSentError } from "./durable-revocations.js";
import {
  InvalidInputError,
  RevocationNotReplicatedError,
  SessionBackendError,
  SessionExpiredError,
  SessionLimitError,
  SessionNotFoundError,
  SessionOutcomeUnknownError,
} from "./errors.js";
import { activityKey, assertUserId, USER_INFO_FIELD, userKey, userKeyAround } from "./keys.js";
import { type ResolvedOptions, resolveOptions, type SessionStoreOptions } from "./options.js";
import { type Device, type JsonValue, toDevice, toJson } from "./payload.js";
import { decodeRecord, decodeUserInfo, encodeBody, type Session } from "./record.js";
import { RedisClock } from "./redis-clock.js";
import { isOutOfMemory, SCRIPT_STATUS, type ScriptName, type ScriptRunner, scriptRunner } from "./scripts/index.js";
import { assertHandle, assertSecret, decodeToken, encodeToken, handleOf, newSecret, sessionKeyOf } from "./token.js";

export interface CreateSessionInput {
  /** Per-session application data; plain JSON, at most maxDataBytes. */
  data?: JsonValue;
  /** What the caller knows of the device: name, platform, userAgent, ip. */
  device?: Device;
  /** Sets the user info shared by all of this user's sessions (e.g. the profile fetched at login). */
  userInfo?: JsonValue;
}

export interface CreatedSession {
  /** The secret. Give it (or the token) to the client; it is never stored. */
  sessionId: string;
  /** One opaque bearer string carrying the user and the secret. */
  token: string;
  session: Session;
}

export interface CleanUserResult {
  deletedSessions: number;
  deletedHash: boolean;
  /** The earliest live expiry left, the user's new activity score; null when nothing is left. */
  nextDueAt: number | null;
  /**
   * Set when the user's key holds another type than a hash (a foreign writer sharing the prefix):
   * that type. The key was left as it is, and logged.
   */
  wrongType?: string;
}

type Reply = [number, ...unknown[]];

/**
 * How a script call is treated when no answer comes back. A `read` fails
 * with SessionBackendError. A `write` may have been carried out already, so
 * it fails with SessionOutcomeUnknownError. An `idempotent` write is sent
 * once more: a second run answers truly for what the first did (create
 * finds its own record, setUserInfo writes the same value).
 */
type CallKind = "read" | "write" | "idempotent";

/** An error reply from Redis itself (OOM, NOSCRIPT, a script error): the command was refused or failed there. */
function isRedisReply(error: unknown): boolean {
  return error instanceof Error && error.name === "ReplyError";
}

const SESSION_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * How many times each client has become ready, shared by every store on that
 * client (one listener per client, however many stores use it): a call made
 * while the client was not ready, that failed before the count moved, never
 * left the offline queue.
 */
const readyCounts = new WeakMap<Redis | Cluster, { count: number }>();

function readyCountOf(redis: Redis | Cluster): { count: number } {
  let counter = readyCounts.get(redis);
  if (!counter) {
    const created = { count: 0 };
    redis.on("ready", () => created.count++);
    readyCounts.set(redis, created);
    counter = created;
  }
  return counter;
}

/**
 * Users one cleaning script takes at most. Each costs Redis 5 to 8
 * microseconds, and a few more for each live session, whose record it checks
 * whole; so a call holds Redis for a millisecond or a few, and API reads
 * queued behind it wait no longer than that.
 */
export const CLEAN_USERS_PER_CALL = 128;

/** What one sweep step did. */
export interface SweepStepResult {
  usersCleaned: number;
  sessionsDeleted: number;
  hashesDeleted: number;
}

/** On a cluster, cleaning calls (one user each) in flight at once. */
const CLUSTER_CLEAN_CALLS = 16;

/** A value as an error message shows it: its type, or the number itself. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return String(value);
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function assertCleanOptions(options: unknown): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidInputError(
      "options",
      `must be an object such as { reschedule: false } (received ${describe(options)})`,
    );
  }
  const { reschedule } = options as { reschedule?: unknown };
  if (reschedule !== undefined && typeof reschedule !== "boolean") {
    throw new InvalidInputError("options.reschedule", `must be a boolean (received ${describe(reschedule)})`);
  }
}

function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) {
    throw new InvalidInputError("limit", `must be an integer from 1 to 100000 (received ${limit})`);
  }
}

export class SessionStore {
  readonly #options: ResolvedOptions;
  readonly #redis: Redis | Cluster;
  readonly #run: ScriptRunner;
  readonly #activityKey: string;
  readonly #userKeyAround: [before: string, after: string];
  /** The read script's fixed arguments, as strings once rather than numbers on every read. */
  readonly #readArgs: [idle: string, touchInterval: string, grace: string];
  readonly #clock: RedisClock;
  /** The client's (re)connections so far, to tell a command that never left the offline queue. */
  readonly #connections: { count: number };
  /** With durableRevocations on: runs logouts and rotations on dedicated connections, then WAITs. */
  readonly #durable: DurableWriter | null;

  constructor(options: SessionStoreOptions) {
    this.#options = resolveOptions(options);
    this.#redis = this.#options.redis;
    this.#run = scriptRunner(this.#redis);
    this.#activityKey = activityKey(this.#options.prefix);
    this.#userKeyAround = userKeyAround(this.#options.prefix);
    const { idleTimeoutMs, touchIntervalMs, keyGraceMs } = this.#options;
    this.#readArgs = [String(idleTimeoutMs), String(touchIntervalMs), String(keyGraceMs)];
    this.#clock = new RedisClock(this.#redis);
    this.#connections = readyCountOf(this.#redis);
    const { durableRevocations } = this.#options;
    this.#durable = durableRevocations ? new DurableWriter(this.#redis, durableRevocations) : null;
  }

  /**
   * Closes the connections the store opened itself (only with
   * durableRevocations on; they open on the first logout). Never the caller's
   * client or queue. Logouts and rotations called afterwards fail with
   * SessionBackendError. Safe to call twice.
   */
  async close(): Promise<void> {
    await this.#durable?.close();
  }

  /** The options in force, defaults filled in (without the clients and logger). */
  get settings() {
    const { redis: _r, queue: _q, logger: _l, ...settings } = this.#options;
    return settings;
  }

  async create(userId: string, input: CreateSessionInput = {}): Promise<CreatedSession> {
    assertUserId(userId);
    if (input === null || typeof input !== "object") {
      throw new InvalidInputError("input", "must be an object with data, device or userInfo");
    }
    const { maxDataBytes } = this.#options;
    const dataJson = toJson(input.data === undefined ? {} : input.data, "data", maxDataBytes);
    const device = toDevice(input.device);
    const userInfoJson = input.userInfo === undefined ? "" : toJson(input.userInfo, "userInfo", maxDataBytes);

    const secret = newSecret();
    const sessionKey = sessionKeyOf(secret);
    const o = this.#options;
    // On a single Redis the script also scores the user in the activity set, atomically; on a cluster the
    // set is in another slot, so it is updated after, in its own command.
    const key = userKey(o.prefix, userId);
    const inScript = !this.#redis.isCluster;
    const reply = await this.#runScript(
      "create",
      "idempotent",
      "createSession",
      inScript ? [key, this.#activityKey] : [key],
      [
        sessionKey,
        o.idleTimeoutMs,
        o.absoluteTimeoutMs,
        o.maxSessionsPerUser,
        o.onLimit,
        o.keyGraceMs,
        encodeBody(dataJson, device),
        userInfoJson,
        userId,
      ],
    );
    if (!Array.isArray(reply)) throw this.#unexpected("create", reply);
    if (reply[0] === SCRIPT_STATUS.LIMIT) throw new SessionLimitError(o.maxSessionsPerUser);
    if (reply[0] !== SCRIPT_STATUS.OK) throw this.#unexpected("create", reply);
    const [, createdAt, expiresAt, evicted, storedInfo] = reply as [0, number, number, number, string | null];
    if (evicted > 0) o.logger.info({ userId, evicted }, "session limit reached: evicted the least recently seen");
    if (!inScript) await this.rescheduleUsers([{ userId, dueAt: expiresAt }]);

    const session: Session = {
      handle: handleOf(sessionKey),
      userId,
      data: JSON.parse(dataJson) as JsonValue,
      userInfo: decodeUserInfo(storedInfo),
      device,
      createdAt,
      lastSeenAt: createdAt,
      expiresAt,
    };
    o.logger.debug({ userId, handle: session.handle }, "session created");
    return { sessionId: secret, token: encodeToken(userId, secret), session };
  }

  /** The live session, renewed (at most once per touchIntervalMs). */
  async get(userId: string, sessionId: string): Promise<Session> {
    assertUserId(userId);
    assertSecret(sessionId);
    return this.#read("get", userId, sessionKeyOf(sessionId));
  }

  /** The same as `get`, from the bearer token alone. */
  async authenticate(token: string): Promise<Session> {
    const { userId, secret } = decodeToken(token);
    return this.#read("authenticate", userId, sessionKeyOf(secret));
  }

  /** Sliding renewal of the idle timeout; writes at most once per touchIntervalMs. */
  async touch(userId: string, sessionId: string): Promise<Session> {
    assertUserId(userId);
    assertSecret(sessionId);
    return this.#read("touch", userId, sessionKeyOf(sessionId));
  }

  /** The user's live sessions, most recently seen first. */
  async list(userId: string): Promise<Session[]> {
    assertUserId(userId);
    const reply = await this.#call("list", "read", "listSessions", userId, []);
    const userInfo = decodeUserInfo(reply[0] as unknown as string | null);
    const sessions: Session[] = [];
    for (let i = 1; i < reply.length; i += 2) {
      const sessionKey = String(reply[i]);
      const session = decodeRecord(sessionKey, userId, String(reply[i + 1]), userInfo);
      if (session) sessions.push(session);
      else await this.#dropCorrupt(userId, sessionKey);
    }
    return sessions.sort((a, b) => b.lastSeenAt - a.lastSeenAt || b.createdAt - a.createdAt);
  }

  /** Logs out this session. True if it was there. */
  async remove(userId: string, sessionId: string): Promise<boolean> {
    assertUserId(userId);
    assertSecret(sessionId);
    return this.#revocation("remove", "write", "removeSession", userId, [sessionKeyOf(sessionId)], (r) => r === 1);
  }

  /** Logs out another device by the handle `list` shows. True if a live session had it. */
  async revoke(userId: string, handle: string): Promise<boolean> {
    assertUserId(userId);
    assertHandle(handle);
    return this.#revocation("revoke", "write", "revokeSession", userId, [handle], (reply) => reply === 1);
  }

  /** Logs out every device but this one; returns how many live sessions went. */
  async removeOthers(userId: string, sessionId: string): Promise<number> {
    assertUserId(userId);
    assertSecret(sessionId);
    const sessionKey = sessionKeyOf(sessionId);
    return this.#revocation("removeOthers", "write", "removeOtherSessions", userId, [sessionKey], async (answer) => {
      const reply = this.#checkReply("removeOthers", "removeOtherSessions", answer);
      await this.#throwIfNotLive(userId, sessionKey, reply, "removeOthers");
      return Number(reply[1]);
    });
  }

  /** Logs out all devices; returns how many live sessions went. */
  async removeAll(userId: string): Promise<number> {
    assertUserId(userId);
    return this.#revocation("removeAll", "write", "removeAllSessions", userId, [], (reply) => Number(reply));
  }

  /** Replaces the user info shared by all of the user's sessions, on behalf of a live one. */
  async setUserInfo(userId: string, sessionId: string, userInfo: JsonValue): Promise<void> {
    assertUserId(userId);
    assertSecret(sessionId);
    const json = toJson(userInfo, "userInfo", this.#options.maxDataBytes);
    const sessionKey = sessionKeyOf(sessionId);
    const reply = await this.#call("setUserInfo", "idempotent", "setUserInfo", userId, [sessionKey, json]);
    await this.#throwIfNotLive(userId, sessionKey, reply, "setUserInfo");
  }

  /**
   * A new 256-bit secret for a live session, in one script: call it when the
   * session's privileges change (login step-up, role change), OWASP's defence
   * against session fixation. The old secret is rejected at once by every
   * store, as its field is gone from Redis; the handle, device, data, user
   * info and createdAt stay. Rotating counts as a use of the session: it
   * renews lastSeenAt and the idle expiry as a read does (never past the
   * absolute expiry), whatever touchIntervalMs says, as the record is
   * rewritten anyway. SessionNotFoundError for an unknown, removed or already
   * rotated secret; SessionExpiredError (and a deletion job) for an expired one.
   * Of concurrent rotations of one session exactly one wins. Safe to send
   * again after a lost reply: the new session key goes with the call, so a
   * second run finds its own rotation done and answers for it.
   */
  async rotate(userId: string, sessionId: string): Promise<CreatedSession> {
    assertUserId(userId);
    assertSecret(sessionId);
    const oldKey = sessionKeyOf(sessionId);
    const secret = newSecret();
    const newKey = sessionKeyOf(secret);
    const [idle, , grace] = this.#readArgs;
    const args = [oldKey, newKey, idle, grace];
    return this.#revocation("rotate", "idempotent", "rotateSession", userId, args, async (answer) => {
      const reply = this.#checkReply("rotate", "rotateSession", answer);
      // An expired answer is about the new record only on a resent call whose first run rotated it.
      await this.#throwIfNotLive(userId, reply[2] === 1 ? newKey : oldKey, reply, "rotate");
      const session = decodeRecord(newKey, userId, String(reply[1]), decodeUserInfo(reply[2] as string | null));
      if (!session) throw this.#unexpected("rotate", reply);
      this.#options.logger.debug({ userId, handle: session.handle }, "session rotated");
      return { sessionId: secret, token: encodeToken(userId, secret), session };
    });
  }

  // --- Cleanup operations: called by the worker, never re-implemented there. ---

  /** Deletes one session if it is still expired (or corrupt) now; the deletion job's operation. */
  async deleteExpiredSession(
    userId: string,
    sessionKey: string,
  ): Promise<{ deletedSession: boolean; deletedHash: boolean }> {
    assertUserId(userId);
    if (typeof sessionKey !== "string" || !SESSION_KEY_PATTERN.test(sessionKey)) {
      throw new InvalidInputError("sessionKey", "is malformed (expected 43 base64url characters)");
    }
    const reply = await this.#call("deleteExpiredSession", "read", "deleteExpiredSession", userId, [sessionKey]);
    return { deletedSession: reply[0] === 1, deletedHash: reply[1] === 1 };
  }

  /**
   * Cleans one user: drops expired and corrupt sessions, drops the hash when
   * nothing live remains, else puts the user back in the activity set at its
   * earliest live expiry. For users claimed with `claimDueUsers` (what
   * `sweepDueUsers` does on a cluster).
   * With `{ reschedule: false }` the caller re-adds the user itself, in bulk,
   * with `rescheduleUsers` (the sweeper does, once per batch).
   */
  async cleanUser(userId: string, options: { reschedule?: boolean } = {}): Promise<CleanUserResult> {
    assertUserId(userId);
    return (await this.cleanUsers([userId], options))[0] as CleanUserResult;
  }

  /**
   * `cleanUser` for many users, each judged on its own, in one script call
   * per CLEAN_USERS_PER_CALL users (one call per user on a cluster, where a
   * script's keys must share a slot). Results are in the order of `userIds`.
   */
  async cleanUsers(userIds: readonly string[], options: { reschedule?: boolean } = {}): Promise<CleanUserResult[]> {
    if (!Array.isArray(userIds)) throw new InvalidInputError("userIds", "must be an array of user ids");
    assertCleanOptions(options);
    const prefix = this.#options.prefix;
    const keys = userIds.map((userId, index) => {
      assertUserId(userId, `userIds[${index}]`);
      return userKey(prefix, userId);
    });
    const perCall = this.#redis.isCluster ? 1 : CLEAN_USERS_PER_CALL;
    const chunks: string[][] = [];
    for (let start = 0; start < keys.length; start += perCall) chunks.push(keys.slice(start, start + perCall));
    const replies: unknown[][] = new Array(chunks.length);
    let next = 0;
    const lane = async () => {
      while (next < chunks.length) {
        const index = next++;
        const chunk = chunks[index] as string[];
        let reply: unknown;
        try {
          reply = await this.#run("cleanUsers", chunk, []);
        } catch (error) {
          throw new SessionBackendError("cleanUsers", error);
        }
        if (!Array.isArray(reply) || reply.length !== chunk.length * 4) throw this.#unexpected("cleanUsers", reply);
        replies[index] = reply;
      }
    };
    // Calls run one after another on a single Redis (each already takes many users); a few at once on a cluster.
    await Promise.all(Array.from({ length: this.#redis.isCluster ? CLUSTER_CLEAN_CALLS : 1 }, lane));
    const results: CleanUserResult[] = [];
    const wrongTypes: [userId: string, type: string][] = [];
    for (const reply of replies) {
      for (let i = 0; i < reply.length; i += 4) {
        const earliest = Number(reply[i + 2]);
        const result: CleanUserResult = {
          deletedSessions: Number(reply[i]),
          deletedHash: reply[i + 1] === 1,
          nextDueAt: earliest > 0 ? earliest : null,
        };
        const wrongType = String(reply[i + 3]);
        if (wrongType !== "") {
          result.wrongType = wrongType;
          wrongTypes.push([userIds[results.length] as string, wrongType]);
        }
        results.push(result);
      }
    }
    this.#warnWrongTypes(wrongTypes);
    if (options.reschedule !== false) {
      const due: { userId: string; dueAt: number }[] = [];
      results.forEach((result, i) => {
        if (result.nextDueAt !== null) due.push({ userId: userIds[i] as string, dueAt: result.nextDueAt });
      });
      await this.rescheduleUsers(due);
    }
    return results;
  }

  /**
   * Puts users back in the activity set at the given times, never later than
   * a score they already have (ZADD LT), in one command. For users cleaned
   * with `{ reschedule: false }`, with the `nextDueAt` that returned.
   */
  async rescheduleUsers(entries: { userId: string; dueAt: number }[]): Promise<void> {
    if (!Array.isArray(entries)) {
      throw new InvalidInputError("entries", "must be an array of { userId, dueAt } entries");
    }
    // Every entry is checked before anything is sent: one bad entry refuses the call, never drops its neighbours.
    const args: (string | number)[] = [];
    entries.forEach((entry: unknown, index) => {
      const field = `entries[${index}]`;
      if (entry === null || typeof entry !== "object") {
        throw new InvalidInputError(field, `must be an object with userId and dueAt (received ${describe(entry)})`);
      }
      const { userId, dueAt } = entry as { userId?: unknown; dueAt?: unknown };
      assertUserId(userId, `${field}.userId`);
      if (typeof dueAt !== "number" || !Number.isSafeInteger(dueAt) || dueAt < 0) {
        throw new InvalidInputError(
          `${field}.dueAt`,
          `must be a time in ms since the epoch, a non-negative integer (received ${describe(dueAt)})`,
        );
      }
      args.push(dueAt, userId);
    });
    if (args.length === 0) return;
    try {
      await this.#redis.zadd(this.#activityKey, "LT", ...args);
    } catch (error) {
      // The hashes' own TTLs still bound their lives; the sweeper only finds them later.
      this.#options.logger.warn(
        { users: entries.length, err: { message: (error as Error).message } },
        "activity update failed",
      );
    }
  }

  /** Takes up to `limit` users that are due for cleaning off the activity set, earliest first. */
  async claimDueUsers(limit: number): Promise<string[]> {
    assertLimit(limit);
    try {
      return ((await this.#run("claimDueUsers", [this.#activityKey], [limit])) as unknown[]).map(String);
    } catch (error) {
      throw new SessionBackendError("claimDueUsers", error);
    }
  }

  /**
   * The sweeper's step: claims up to `limit` due users, cleans each one
   * (as `cleanUser`) and puts those that keep a live session back in the
   * activity set. On a single Redis each CLEAN_USERS_PER_CALL users are one
   * atomic script, with nothing sent back and forth per user and no claimed
   * user ever out of the set. On a cluster (the users' hashes are in other
   * slots than the set) it claims, cleans and re-adds in separate calls.
   */
  async sweepDueUsers(limit: number): Promise<SweepStepResult> {
    assertLimit(limit);
    const total: SweepStepResult = { usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 };
    if (this.#redis.isCluster) {
      const users = await this.claimDueUsers(limit);
      const results = await this.cleanUsers(users);
      total.usersCleaned = users.length;
      for (const result of results) {
        total.sessionsDeleted += result.deletedSessions;
        if (result.deletedHash) total.hashesDeleted++;
      }
      return total;
    }
    const [before, after] = this.#userKeyAround;
    while (total.usersCleaned < limit) {
      const want = Math.min(limit - total.usersCleaned, CLEAN_USERS_PER_CALL);
      let reply: unknown;
      try {
        reply = await this.#run("sweepDueUsers", [this.#activityKey], [want, before, after]);
      } catch (error) {
        throw new SessionBackendError("sweepDueUsers", error);
      }
      if (!Array.isArray(reply) || reply.length < 3 || reply.length % 2 === 0) {
        throw this.#unexpected("sweepDueUsers", reply);
      }
      const [users, sessions, hashes] = reply.slice(0, 3).map(Number) as [number, number, number];
      const wrongTypes: [userId: string, type: string][] = [];
      for (let i = 3; i < reply.length; i += 2) wrongTypes.push([String(reply[i]), String(reply[i + 1])]);
      this.#warnWrongTypes(wrongTypes);
      total.usersCleaned += users;
      total.sessionsDeleted += sessions;
      total.hashesDeleted += hashes;
      if (users < want) break;
    }
    return total;
  }

  // --- helpers ---

  /**
   * A user whose key holds another type than a hash was skipped by a cleaning script and, being
   * no user of ours, not put back in the activity set: logged once, here, with its user id.
   */
  #warnWrongTypes(wrongTypes: readonly [userId: string, type: string][]): void {
    const seen = new Set<string>();
    for (const [userId, type] of wrongTypes) {
      if (seen.has(userId)) continue;
      seen.add(userId);
      this.#options.logger.warn({ userId, type }, "user key is not a hash (another writer's data?): left alone");
    }
  }

  /**
   * The hot path of get, authenticate and touch. A session that is clearly
   * live and not due for renewal (judged against Redis's clock, with its
   * uncertainty) is served from one HMGET, so a read stays a read. Everything
   * else (near or past expiry, renewal due, corrupt, no recent clock) goes to
   * the read script, which decides with Redis TIME.
   */
  async #read(operation: string, userId: string, sessionKey: string): Promise<Session> {
    const key = userKey(this.#options.prefix, userId);
    if (!Number.isNaN(this.#clock.latestMs())) {
      let values: (string | null)[];
      try {
        values = await this.#redis.hmget(key, sessionKey, USER_INFO_FIELD);
      } catch (error) {
        throw new SessionBackendError(operation, error);
      }
      if (values[0] == null) throw new SessionNotFoundError();
      const session = decodeRecord(sessionKey, userId, values[0], decodeUserInfo(values[1]));
      // Judged at the answer, not the request: Redis read the record no later than now (NaN: no recent clock).
      const latest = this.#clock.latestMs();
      if (session && session.expiresAt > latest && latest - session.lastSeenAt < this.#options.touchIntervalMs) {
        return session;
      }
    }
    return this.#readByScript(operation, key, userId, sessionKey);
  }

  async #readByScript(operation: string, key: string, userId: string, sessionKey: string): Promise<Session> {
    const [idle, touchInterval, grace] = this.#readArgs;
    let reply: unknown;
    try {
      reply = await this.#run("readSession", [key], [sessionKey, idle, touchInterval, grace]);
    } catch (error) {
      if (!isOutOfMemory(error)) throw new SessionBackendError(operation, error);
      // Redis is full and refused the renewing script as a whole: the same judgement, unrenewed, writing nothing.
      try {
        reply = await this.#run("readSessionUnrenewed", [key], [sessionKey]);
      } catch (again) {
        throw new SessionBackendError(operation, again);
      }
    }
    if (!Array.isArray(reply)) throw this.#unexpected(operation, reply);
    if (reply[0] === SCRIPT_STATUS.OK) {
      const session = decodeRecord(sessionKey, userId, reply[1] as string, decodeUserInfo(reply[2] as string | null));
      if (session) return session;
      await this.#dropCorrupt(userId, sessionKey);
      throw new SessionNotFoundError();
    }
    if (reply[0] === SCRIPT_STATUS.CORRUPT) {
      this.#options.logger.warn({ userId, handle: handleOf(sessionKey) }, "corrupt session record deleted");
      throw new SessionNotFoundError();
    }
    await this.#throwIfNotLive(userId, sessionKey, reply as Reply, operation);
    throw this.#unexpected(operation, reply);
  }

  /** Maps a not-found or expired script status to its error; an expired one also enqueues the deletion. */
  async #throwIfNotLive(userId: string, sessionKey: string, reply: Reply, operation: string): Promise<void> {
    if (reply[0] === SCRIPT_STATUS.OK) return;
    if (reply[0] === SCRIPT_STATUS.NOT_FOUND) throw new SessionNotFoundError();
    if (reply[0] === SCRIPT_STATUS.EXPIRED) {
      const expiresAt = Number(reply[1]);
      // The read rejects whatever happens to the enqueue; a failed enqueue is only logged.
      await this.#enqueueDeletion(userId, sessionKey, expiresAt);
      throw new SessionExpiredError(expiresAt);
    }
    throw this.#unexpected(operation, reply);
  }

  async #enqueueDeletion(userId: string, sessionKey: string, expiresAt: number): Promise<void> {
    const { queue, logger, enqueueTimeoutMs } = this.#options;
    const data: DeleteExpiredSessionJobData = { userId, sessionKey, expiresAt };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        queue.add(DELETE_EXPIRED_SESSION_JOB, data, {
          ...DELETE_EXPIRED_SESSION_JOB_OPTIONS,
          deduplication: { id: deduplicationIdOf(sessionKey) },
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${enqueueTimeoutMs} ms`)), enqueueTimeoutMs);
        }),
      ]);
    } catch (error) {
      logger.error(
        { userId, handle: handleOf(sessionKey), err: { message: (error as Error).message } },
        "could not enqueue the deletion of an expired session",
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #dropCorrupt(userId: string, sessionKey: string): Promise<void> {
    this.#options.logger.warn({ userId, handle: handleOf(sessionKey) }, "corrupt session record deleted");
    await this.#callScalar("dropCorrupt", "read", "removeSession", userId, [sessionKey]);
  }

  /**
   * Runs a script, turning a failure into the error its kind calls for
   * (CallKind). A command that never left the client (Redis was not
   * connected, and no connection was made before the call failed) was not
   * carried out: a plain SessionBackendError, whatever the kind.
   */
  async #runScript(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
    run: ScriptRunner = this.#run,
  ): Promise<unknown> {
    const connected = this.#redis.status === "ready";
    const connections = this.#connections.count;
    try {
      return await run(script, keys, args);
    } catch (error) {
      // The store's client tells by its connections; the durable writer says so itself.
      const neverSent =
        error instanceof NotSentError || (run === this.#run && !connected && connections === this.#connections.count);
      if (kind === "read" || isRedisReply(error) || neverSent) throw new SessionBackendError(operation, error);
      if (kind === "write") throw new SessionOutcomeUnknownError(operation, error);
      this.#options.logger.warn(
        { operation, err: { message: (error as Error).message } },
        "no answer from Redis: sending the call again",
      );
    }
    try {
      return await run(script, keys, args);
    } catch (error) {
      throw new SessionOutcomeUnknownError(operation, error);
    }
  }

  /**
   * A logout or rotation: the script run as `#runScript` does, its reply
   * turned into the method's result by `toResult` (which throws, as for a
   * session that is not live, when nothing was written). With
   * durableRevocations on, the script goes through the durable writer, and
   * a write fewer replicas acknowledged than required is reported with
   * RevocationNotReplicatedError, which carries the result.
   */
  async #revocation<T>(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    userId: string,
    args: (string | number)[],
    toResult: (reply: unknown) => T | Promise<T>,
  ): Promise<T> {
    const keys = [userKey(this.#options.prefix, userId)];
    const durable = this.#durable;
    const required = this.#options.durableRevocations?.replicas;
    if (!durable || required === undefined) return toResult(await this.#runScript(operation, kind, script, keys, args));
    let acknowledged = 0;
    const run: ScriptRunner = async (name, scriptKeys, scriptArgs) => {
      const answer = await durable.run(name, scriptKeys, scriptArgs);
      acknowledged = answer.acknowledged;
      return answer.reply;
    };
    const result = await toResult(await this.#runScript(operation, kind, script, keys, args, run));
    if (acknowledged < required) throw new RevocationNotReplicatedError(operation, acknowledged, required, result);
    return result;
  }

  async #callScalar(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    userId: string,
    args: (string | number)[],
  ): Promise<unknown> {
    return this.#runScript(operation, kind, script, [userKey(this.#options.prefix, userId)], args);
  }

  async #call(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    userId: string,
    args: (string | number)[],
  ): Promise<Reply> {
    return this.#checkReply(operation, script, await this.#callScalar(operation, kind, script, userId, args));
  }

  /** A script's reply as an array led by its status (`list`'s leads with the user info). */
  #checkReply(operation: string, script: ScriptName, reply: unknown): Reply {
    if (!Array.isArray(reply) || (reply.length > 0 && typeof reply[0] !== "number" && script !== "listSessions")) {
      throw this.#unexpected(operation, reply);
    }
    return reply as Reply;
  }

  #unexpected(operation: string, reply: unknown): SessionBackendError {
    return new SessionBackendError(
      operation,
      new Error(`unexpected script reply ${JSON.stringify(reply)?.slice(0, 200)}`),
    );
  }
}
