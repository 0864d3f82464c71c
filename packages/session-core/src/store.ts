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
 * - Every user is scored in the activity shard of its hash slot at or
 *   before the earliest expiry in its hash, written inside the create script
 *   itself; the worker's sweep (cleanup.ts) claims, cleans and re-adds due
 *   users shard by shard.
 *
 * One code path. A user's hash and activity shard share a slot, so every
 * script touches one slot and runs unchanged on one Redis and on a cluster;
 * every script is called one way (#call) and replies with a status first,
 * which errorOfStatus (scripts/status.ts) turns into an error.
 */
import type { Cluster, Redis } from "ioredis";
import { Cleanup, type SweepStepResult } from "./cleanup.js";
import {
  DELETE_EXPIRED_SESSION_JOB,
  DELETE_EXPIRED_SESSION_JOB_OPTIONS,
  type DeleteExpiredSessionJobData,
  deduplicationIdOf,
  deletionJobAdmitted,
} from "./cleanup-job.js";
import {
  InvalidInputError,
  RevocationNotReplicatedError,
  SessionBackendError,
  SessionNotFoundError,
  SessionOutcomeUnknownError,
} from "./errors.js";
import { activityKeyOf, assertUserId, USER_INFO_FIELD, userKey } from "./keys.js";
import { type ResolvedOptions, resolveOptions, type SessionStoreOptions } from "./options.js";
import { type Device, type JsonValue, toDevice, toJson } from "./payload.js";
import { decodeRecord, decodeUserInfo, encodeBody, type Session } from "./record.js";
import { RedisClock } from "./redis-clock.js";
import { type CallKind, ScriptCalls } from "./script-calls.js";
import {
  errorOfStatus,
  isOutOfMemory,
  SCRIPT_STATUS,
  type ScriptName,
  type ScriptReply,
  unexpectedReply,
} from "./scripts/index.js";
import { assertHandle, assertSecret, decodeToken, encodeToken, handleOf, newSecret, sessionKeyOf } from "./token.js";

/** What `create` takes besides the user id; every field optional (see CreateSessionArgs for `data`). */
export interface CreateSessionInput<Data = JsonValue, UserInfo = JsonValue> {
  /** Per-session application data; plain JSON, at most maxDataBytes. Left out, the session's data is `{}`. */
  data?: Data;
  /** What the caller knows of the device: name, platform, userAgent, ip. */
  device?: Device;
  /** Sets the user info shared by all of this user's sessions (e.g. the profile fetched at login). */
  userInfo?: UserInfo;
}

/**
 * `create`'s arguments after the user id. A session created without `data`
 * holds `{}`, so `data` (and the input) may be left out only while `{}` is a
 * valid `Data`: with the default JsonValue, or a type whose fields are all
 * optional. Otherwise `data` is required, so that `session.data` is always
 * what its type says.
 */
export type CreateSessionArgs<Data = JsonValue, UserInfo = JsonValue> =
  Record<string, never> extends Data
    ? [input?: CreateSessionInput<Data, UserInfo>]
    : [input: CreateSessionInput<Data, UserInfo> & { data: Data }];

/** What `create` and `rotate` return: the new secret, once, and the session. */
export interface CreatedSession<Data = JsonValue, UserInfo = JsonValue> {
  /** The secret. Give it (or the token) to the client; it is never stored. */
  sessionId: string;
  /** One opaque bearer string carrying the user and the secret. */
  token: string;
  session: Session<Data, UserInfo>;
}

/**
 * A store of any `Data` and `UserInfo`: the type for code that takes a store
 * from its caller without caring what its data holds (a framework plugin, a
 * route set). Every `SessionStore<D, U>` is one, while a typed store is not a
 * plain `SessionStore` (an interface is not assignable to JsonValue), so such
 * code should take this type or be generic over the two.
 */
// biome-ignore lint/suspicious/noExplicitAny: any data type is welcome here, by design
export type AnySessionStore = SessionStore<any, any>;

/**
 * Many device sessions per user on Redis (a single server or a Cluster).
 * Every method validates its arguments first (InvalidInputError naming the
 * field) and makes one atomic script call or one read.
 *
 * @typeParam Data - what each session's `data` holds. Plain JSON: it is
 *   checked at run time (InvalidInputError naming the path) whatever the type
 *   says. Defaults to JsonValue.
 * @typeParam UserInfo - what the user info all of a user's sessions share
 *   holds; plain JSON too. Defaults to JsonValue.
 *
 * @example
 * ```ts
 * interface Prefs { locale: string }
 * interface Profile { name: string; plan: "free" | "pro" }
 * const store = new SessionStore<Prefs, Profile>({ redis, queue });
 * const { session } = await store.create("user-42", { data: { locale: "en" } });
 * session.data.locale; // string
 * ```
 */
export class SessionStore<Data = JsonValue, UserInfo = JsonValue> {
  readonly #options: ResolvedOptions;
  readonly #redis: Redis | Cluster;
  /** The one way scripts are called, and their failures classified. */
  readonly #calls: ScriptCalls;
  /** The read script's fixed arguments, as strings once rather than numbers on every read. */
  readonly #readArgs: [idle: string, touchInterval: string, grace: string];
  readonly #clock: RedisClock;
  /** The worker's operations (deletion job, sweep steps), on this store's one way of calling scripts. */
  readonly #cleanup: Cleanup;

  /**
   * Validates the options once and fills in the defaults.
   * @throws {@link InvalidOptionError} naming the option and the value received.
   */
  constructor(options: SessionStoreOptions) {
    this.#options = resolveOptions(options);
    this.#redis = this.#options.redis;
    const { idleTimeoutMs, touchIntervalMs, keyGraceMs } = this.#options;
    this.#readArgs = [String(idleTimeoutMs), String(touchIntervalMs), String(keyGraceMs)];
    this.#clock = new RedisClock(this.#redis);
    this.#calls = new ScriptCalls(this.#redis, this.#options.logger, this.#options.durableRevocations);
    this.#cleanup = new Cleanup({
      redis: this.#redis,
      prefix: this.#options.prefix,
      keyGraceMs,
      logger: this.#options.logger,
      clock: this.#clock,
      call: (operation, script, keys, args) => this.#call(operation, "read", script, keys, args),
    });
  }

  /**
   * Closes the connections the store opened itself (only with
   * durableRevocations on; they open on the first logout). Never the caller's
   * client or queue. Logouts and rotations called afterwards fail with
   * SessionBackendError. Safe to call twice.
   */
  async close(): Promise<void> {
    await this.#calls.close();
  }

  /** The options in force, defaults filled in (without the clients and logger). */
  get settings() {
    const { redis: _r, queue: _q, logger: _l, ...settings } = this.#options;
    return settings;
  }

  /**
   * A new session with a fresh 256-bit secret. At maxSessionsPerUser live
   * sessions, evicts the least recently seen one, or (onLimit "reject")
   * throws SessionLimitError. Safe to send again after a lost reply (the
   * store does so itself).
   * @throws {@link InvalidInputError} for a malformed user id, input, data, device or user info.
   * @throws {@link SessionLimitError} at the limit with onLimit "reject".
   * @throws {@link SessionBackendError} when Redis fails or is full.
   * @throws {@link SessionOutcomeUnknownError} when neither the call nor its resend was answered.
   */
  async create(userId: string, ...args: CreateSessionArgs<Data, UserInfo>): Promise<CreatedSession<Data, UserInfo>> {
    assertUserId(userId);
    const [input = {}] = args as [CreateSessionInput<Data, UserInfo>?];
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
    // The script scores the user in its activity shard too: same slot as the hash, one atomic call.
    const reply = await this.#call(
      "create",
      "idempotent",
      "createSession",
      [userKey(o.prefix, userId), activityKeyOf(o.prefix, userId)],
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
    if (reply[0] !== SCRIPT_STATUS.OK) throw this.#errorOf("create", reply);
    const [, createdAt, expiresAt, evicted, storedInfo] = reply as [0, number, number, number, string | null];
    if (evicted > 0) o.logger.info({ userId, evicted }, "session limit reached: evicted the least recently seen");

    const session: Session<Data, UserInfo> = {
      handle: handleOf(sessionKey),
      userId,
      data: JSON.parse(dataJson) as Data,
      userInfo: decodeUserInfo(storedInfo) as UserInfo | null,
      device,
      createdAt,
      lastSeenAt: createdAt,
      expiresAt,
    };
    o.logger.debug({ userId, handle: session.handle }, "session created");
    return { sessionId: secret, token: encodeToken(userId, secret), session };
  }

  /**
   * The live session, renewed (at most once per touchIntervalMs).
   * @throws {@link InvalidInputError} for a malformed user id or session id.
   * @throws {@link SessionNotFoundError} for an unknown, removed, revoked or rotated session.
   * @throws {@link SessionExpiredError} for an expired one (its deletion is enqueued).
   * @throws {@link SessionBackendError} when Redis fails.
   */
  async get(userId: string, sessionId: string): Promise<Session<Data, UserInfo>> {
    assertUserId(userId);
    assertSecret(sessionId);
    return this.#read("get", userId, sessionKeyOf(sessionId));
  }

  /**
   * The same as `get`, from the bearer token alone.
   * @throws {@link InvalidInputError} for a malformed token (field `token`).
   * @throws {@link SessionNotFoundError} for an unknown, removed, revoked or rotated session.
   * @throws {@link SessionExpiredError} for an expired one (its deletion is enqueued).
   * @throws {@link SessionBackendError} when Redis fails.
   */
  async authenticate(token: string): Promise<Session<Data, UserInfo>> {
    const { userId, secret } = decodeToken(token);
    return this.#read("authenticate", userId, sessionKeyOf(secret));
  }

  /**
   * Sliding renewal of the idle timeout; writes at most once per touchIntervalMs.
   * @throws {@link InvalidInputError} for a malformed user id or session id.
   * @throws {@link SessionNotFoundError} for an unknown, removed, revoked or rotated session.
   * @throws {@link SessionExpiredError} for an expired one (its deletion is enqueued).
   * @throws {@link SessionBackendError} when Redis fails.
   */
  async touch(userId: string, sessionId: string): Promise<Session<Data, UserInfo>> {
    assertUserId(userId);
    assertSecret(sessionId);
    return this.#read("touch", userId, sessionKeyOf(sessionId));
  }

  /**
   * The user's live sessions, most recently seen first; expired and corrupt
   * records met on the way are deleted.
   * @throws {@link InvalidInputError} for a malformed user id.
   * @throws {@link SessionBackendError} when Redis fails.
   */
  async list(userId: string): Promise<Session<Data, UserInfo>[]> {
    assertUserId(userId);
    const reply = await this.#userCall("list", "read", "listSessions", userId, []);
    if (reply[0] !== SCRIPT_STATUS.OK) throw this.#errorOf("list", reply);
    const userInfo = decodeUserInfo(reply[1] as string | null);
    const sessions: Session<Data, UserInfo>[] = [];
    for (let i = 2; i < reply.length; i += 2) {
      const sessionKey = String(reply[i]);
      const session = this.#decode(sessionKey, userId, reply[i + 1], userInfo);
      if (session) sessions.push(session);
      else await this.#dropCorrupt(userId, sessionKey);
    }
    return sessions.sort((a, b) => b.lastSeenAt - a.lastSeenAt || b.createdAt - a.createdAt);
  }

  /**
   * Logs out this session. True if it was there.
   * @throws {@link InvalidInputError} for a malformed user id or session id.
   * @throws {@link SessionBackendError} when Redis fails.
   * @throws {@link SessionOutcomeUnknownError} when the call was sent but not answered: it may have happened; sending it again is safe.
   * @throws {@link RevocationNotReplicatedError} with durableRevocations, when fewer replicas than required acknowledged in time (it happened on the master; `result` holds the answer).
   */
  async remove(userId: string, sessionId: string): Promise<boolean> {
    assertUserId(userId);
    assertSecret(sessionId);
    return this.#revocation(
      "remove",
      "write",
      "removeSession",
      userId,
      [sessionKeyOf(sessionId)],
      (reply) => reply[1] === 1,
    );
  }

  /**
   * Logs out another device by the handle `list` shows. True if a live session had it.
   * @throws {@link InvalidInputError} for a malformed user id or handle.
   * @throws {@link SessionBackendError} when Redis fails.
   * @throws {@link SessionOutcomeUnknownError} when the call was sent but not answered: it may have happened; sending it again is safe.
   * @throws {@link RevocationNotReplicatedError} with durableRevocations, when fewer replicas than required acknowledged in time (it happened on the master; `result` holds the answer).
   */
  async revoke(userId: string, handle: string): Promise<boolean> {
    assertUserId(userId);
    assertHandle(handle);
    return this.#revocation("revoke", "write", "revokeSession", userId, [handle], (reply) => reply[1] === 1);
  }

  /**
   * Logs out every device but this one; returns how many live sessions went.
   * @throws {@link InvalidInputError} for a malformed user id or session id.
   * @throws {@link SessionNotFoundError} when the caller's own session is unknown or gone (nothing is removed).
   * @throws {@link SessionExpiredError} when the caller's own session has expired (nothing is removed).
   * @throws {@link SessionBackendError} when Redis fails.
   * @throws {@link SessionOutcomeUnknownError} when the call was sent but not answered: it may have happened; sending it again is safe.
   * @throws {@link RevocationNotReplicatedError} with durableRevocations, when fewer replicas than required acknowledged in time (it happened on the master; `result` holds the answer).
   */
  async removeOthers(userId: string, sessionId: string): Promise<number> {
    assertUserId(userId);
    assertSecret(sessionId);
    const sessionKey = sessionKeyOf(sessionId);
    return this.#revocation("removeOthers", "write", "removeOtherSessions", userId, [sessionKey], async (reply) => {
      await this.#throwIfNotLive(userId, sessionKey, reply, "removeOthers");
      return Number(reply[1]);
    });
  }

  /**
   * Logs out all devices, user info included; returns how many live sessions went.
   * @throws {@link InvalidInputError} for a malformed user id.
   * @throws {@link SessionBackendError} when Redis fails.
   * @throws {@link SessionOutcomeUnknownError} when the call was sent but not answered: it may have happened; sending it again is safe.
   * @throws {@link RevocationNotReplicatedError} with durableRevocations, when fewer replicas than required acknowledged in time (it happened on the master; `result` holds the answer).
   */
  async removeAll(userId: string): Promise<number> {
    assertUserId(userId);
    return this.#revocation("removeAll", "write", "removeAllSessions", userId, [], (reply) => Number(reply[1]));
  }

  /**
   * Replaces the user info shared by all of the user's sessions, on behalf
   * of a live one; every session sees it on its next read. Without a session
   * at hand, use `updateUserInfo`.
   * @throws {@link InvalidInputError} for a malformed user id or session id, or user info that is not plain JSON or is over maxDataBytes.
   * @throws {@link SessionNotFoundError} when that session is unknown or gone.
   * @throws {@link SessionExpiredError} when it has expired (its deletion is enqueued).
   * @throws {@link SessionBackendError} when Redis fails or is full.
   * @throws {@link SessionOutcomeUnknownError} when neither the call nor its resend was answered.
   */
  async setUserInfo(userId: string, sessionId: string, userInfo: UserInfo): Promise<void> {
    assertUserId(userId);
    assertSecret(sessionId);
    const json = toJson(userInfo, "userInfo", this.#options.maxDataBytes);
    const sessionKey = sessionKeyOf(sessionId);
    const reply = await this.#userCall("setUserInfo", "idempotent", "setUserInfo", userId, [sessionKey, json]);
    await this.#throwIfNotLive(userId, sessionKey, reply, "setUserInfo");
  }

  /**
   * The user info all of the user's sessions share, read with no session at
   * hand (one read-only script). Null when none is set, or when the user has
   * no live session.
   * @throws {@link InvalidInputError} for a malformed user id.
   * @throws {@link SessionBackendError} when Redis fails.
   */
  async getUserInfo(userId: string): Promise<UserInfo | null> {
    assertUserId(userId);
    const reply = await this.#userCall("getUserInfo", "read", "getUserInfo", userId, []);
    if (reply[0] !== SCRIPT_STATUS.OK) throw this.#errorOf("getUserInfo", reply);
    return decodeUserInfo(reply[1] as string | null) as UserInfo | null;
  }

  /**
   * Replaces the user info all of the user's sessions share, with no session
   * at hand (a profile change from an admin tool). One atomic script: every
   * live session sees it on its next read, through any server. A user with no
   * live session gets nothing: it returns false and writes nothing, so no key
   * is created (and none without a TTL); the next login brings its own user
   * info. Concurrent updates: the last one wins, whole.
   * @returns true if written, false if the user has no live session.
   * @throws {@link InvalidInputError} for a malformed user id, or user info that is not plain JSON or is over maxDataBytes.
   * @throws {@link SessionBackendError} when Redis fails or is full.
   * @throws {@link SessionOutcomeUnknownError} when neither the call nor its resend was answered.
   */
  async updateUserInfo(userId: string, userInfo: UserInfo): Promise<boolean> {
    assertUserId(userId);
    const json = toJson(userInfo, "userInfo", this.#options.maxDataBytes);
    const grace = this.#readArgs[2];
    const reply = await this.#userCall("updateUserInfo", "idempotent", "updateUserInfo", userId, [json, grace]);
    if (reply[0] !== SCRIPT_STATUS.OK) throw this.#errorOf("updateUserInfo", reply);
    return reply[1] === 1;
  }

  /**
   * Replaces one live session's `data`, in one atomic script, and returns the
   * session as now stored. Its times, device and handle stay: writing data is
   * not a use of the session, so it neither renews nor shortens it.
   * Concurrent updates of one session: the last one wins, whole.
   * @throws {@link InvalidInputError} for a malformed user id or session id, or data that is not plain JSON or is over maxDataBytes.
   * @throws {@link SessionNotFoundError} for an unknown, removed, revoked or rotated session.
   * @throws {@link SessionExpiredError} for an expired one (nothing is written; its deletion is enqueued).
   * @throws {@link SessionBackendError} when Redis fails or is full.
   * @throws {@link SessionOutcomeUnknownError} when neither the call nor its resend was answered.
   */
  async updateData(userId: string, sessionId: string, data: Data): Promise<Session<Data, UserInfo>> {
    assertUserId(userId);
    assertSecret(sessionId);
    const json = toJson(data, "data", this.#options.maxDataBytes);
    const sessionKey = sessionKeyOf(sessionId);
    const reply = await this.#userCall("updateData", "idempotent", "updateData", userId, [sessionKey, json]);
    await this.#throwIfNotLive(userId, sessionKey, reply, "updateData");
    const session = this.#decode(sessionKey, userId, reply[1], decodeUserInfo(reply[2] as string | null));
    if (!session) throw unexpectedReply("updateData", reply);
    return session;
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
   * @throws {@link InvalidInputError} for a malformed user id or session id.
   * @throws {@link SessionNotFoundError} for an unknown, removed or already rotated secret.
   * @throws {@link SessionExpiredError} for an expired session (its deletion is enqueued).
   * @throws {@link SessionBackendError} when Redis fails or is full.
   * @throws {@link SessionOutcomeUnknownError} when neither the call nor its resend was answered.
   * @throws {@link RevocationNotReplicatedError} with durableRevocations, when fewer replicas than required acknowledged in time (`result` holds the new session).
   */
  async rotate(userId: string, sessionId: string): Promise<CreatedSession<Data, UserInfo>> {
    assertUserId(userId);
    assertSecret(sessionId);
    const oldKey = sessionKeyOf(sessionId);
    const secret = newSecret();
    const newKey = sessionKeyOf(secret);
    const [idle, , grace] = this.#readArgs;
    const args = [oldKey, newKey, idle, grace];
    return this.#revocation("rotate", "idempotent", "rotateSession", userId, args, async (reply) => {
      // An expired answer is about the new record only on a resent call whose first run rotated it.
      await this.#throwIfNotLive(userId, reply[2] === 1 ? newKey : oldKey, reply, "rotate");
      const session = this.#decode(newKey, userId, reply[1], decodeUserInfo(reply[2] as string | null));
      if (!session) throw unexpectedReply("rotate", reply);
      this.#options.logger.debug({ userId, handle: session.handle }, "session rotated");
      return { sessionId: secret, token: encodeToken(userId, secret), session };
    });
  }

  // --- The worker's operations (cleanup.ts): the deletion job and the sweep steps. ---

  /**
   * Deletes one session if it is still expired (or corrupt) now; the deletion job's operation.
   * @throws {@link InvalidInputError} for a malformed user id or session key.
   * @throws {@link SessionBackendError} when Redis fails.
   */
  deleteExpiredSession(userId: string, sessionKey: string): Promise<{ deletedSession: boolean; deletedHash: boolean }> {
    return this.#cleanup.deleteExpiredSession(userId, sessionKey);
  }

  /**
   * Of the given hash slots, those whose activity shard holds a user due for cleaning now.
   * @throws {@link InvalidInputError} when `slots` is not an array of slot numbers (0 to 16383).
   * @throws {@link SessionBackendError} when Redis fails.
   */
  findDueSlots(slots: readonly number[]): Promise<number[]> {
    return this.#cleanup.findDueSlots(slots);
  }

  /**
   * The sweeper's step on one slot: claims up to `limit` due users, cleans
   * them and re-adds those still live, atomically per call of at most 128
   * users. Fewer users cleaned than `limit`: nothing more is due there now.
   * @throws {@link InvalidInputError} for a slot outside 0 to 16383 or a limit outside 1 to 100000.
   * @throws {@link SessionBackendError} when Redis fails.
   */
  sweepSlot(slot: number, limit: number): Promise<SweepStepResult> {
    return this.#cleanup.sweepSlot(slot, limit);
  }

  /**
   * Moves up to `limit` users from the single activity set of releases before
   * the shards into their shards; 0 once it is gone (the sweeper calls it).
   * @throws {@link InvalidInputError} for a limit outside 1 to 100000.
   * @throws {@link SessionBackendError} when Redis fails.
   */
  drainLegacyActivity(limit: number): Promise<number> {
    return this.#cleanup.drainLegacyActivity(limit);
  }

  // --- helpers ---

  /**
   * A stored record as a session of this store's types; null when corrupt.
   * The types are the caller's word: what was stored was checked as JSON only.
   */
  #decode(
    sessionKey: string,
    userId: string,
    record: unknown,
    userInfo: JsonValue | null,
  ): Session<Data, UserInfo> | null {
    return decodeRecord(sessionKey, userId, String(record), userInfo) as Session<Data, UserInfo> | null;
  }

  /**
   * The hot path of get, authenticate and touch. A session that is clearly
   * live and not due for renewal (judged against Redis's clock, with its
   * uncertainty) is served from one HMGET, so a read stays a read. Everything
   * else (near or past expiry, renewal due, corrupt, no recent clock) goes to
   * the read script, which decides with Redis TIME.
   */
  async #read(operation: string, userId: string, sessionKey: string): Promise<Session<Data, UserInfo>> {
    const key = userKey(this.#options.prefix, userId);
    if (!Number.isNaN(this.#clock.latestMs())) {
      let values: (string | null)[];
      try {
        values = await this.#redis.hmget(key, sessionKey, USER_INFO_FIELD);
      } catch (error) {
        throw new SessionBackendError(operation, error);
      }
      if (values[0] == null) throw new SessionNotFoundError();
      const session = this.#decode(sessionKey, userId, values[0], decodeUserInfo(values[1]));
      // Judged at the answer, not the request: Redis read the record no later than now (NaN: no recent clock).
      const latest = this.#clock.latestMs();
      if (session && session.expiresAt > latest && latest - session.lastSeenAt < this.#options.touchIntervalMs) {
        return session;
      }
    }
    return this.#readByScript(operation, key, userId, sessionKey);
  }

  async #readByScript(
    operation: string,
    key: string,
    userId: string,
    sessionKey: string,
  ): Promise<Session<Data, UserInfo>> {
    const [idle, touchInterval, grace] = this.#readArgs;
    let reply: ScriptReply;
    try {
      reply = await this.#call(operation, "read", "readSession", [key], [sessionKey, idle, touchInterval, grace]);
    } catch (error) {
      if (!(error instanceof SessionBackendError && isOutOfMemory(error.cause))) throw error;
      // Redis is full and refused the renewing script as a whole: the same judgement, unrenewed, writing nothing.
      reply = await this.#call(operation, "read", "readSessionUnrenewed", [key], [sessionKey]);
    }
    await this.#throwIfNotLive(userId, sessionKey, reply, operation);
    const session = this.#decode(sessionKey, userId, reply[1], decodeUserInfo(reply[2] as string | null));
    if (session) return session;
    await this.#dropCorrupt(userId, sessionKey);
    throw new SessionNotFoundError();
  }

  /**
   * Returns on OK; otherwise throws the error the status stands for
   * (errorOfStatus), after what goes with it: an expired session's deletion
   * is enqueued, a corrupt record (which the script deleted) is logged.
   */
  async #throwIfNotLive(userId: string, sessionKey: string, reply: ScriptReply, operation: string): Promise<void> {
    if (reply[0] === SCRIPT_STATUS.OK) return;
    if (reply[0] === SCRIPT_STATUS.EXPIRED) {
      // The read rejects whatever happens to the enqueue; a failed enqueue is only logged.
      await this.#enqueueDeletion(userId, sessionKey, Number(reply[1]));
    } else if (reply[0] === SCRIPT_STATUS.CORRUPT) {
      this.#options.logger.warn({ userId, handle: handleOf(sessionKey) }, "corrupt session record deleted");
    }
    throw this.#errorOf(operation, reply);
  }

  #errorOf(operation: string, reply: ScriptReply): Error {
    return errorOfStatus(reply, { operation, maxSessionsPerUser: this.#options.maxSessionsPerUser });
  }

  async #enqueueDeletion(userId: string, sessionKey: string, expiresAt: number): Promise<void> {
    const { queue, logger, enqueueTimeoutMs, maxPendingDeletionJobs } = this.#options;
    const data: DeleteExpiredSessionJobData = { userId, sessionKey, expiresAt };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          // Without a consumer the queue stops at maxPendingDeletionJobs; the sweep deletes this session then.
          if (!(await deletionJobAdmitted(queue, sessionKey, maxPendingDeletionJobs))) return;
          await queue.add(DELETE_EXPIRED_SESSION_JOB, data, {
            ...DELETE_EXPIRED_SESSION_JOB_OPTIONS,
            deduplication: { id: deduplicationIdOf(sessionKey) },
          });
        })(),
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
    await this.#userCall("dropCorrupt", "read", "removeSession", userId, [sessionKey]);
  }

  /** The one way every script is called (ScriptCalls.call). */
  #call(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<ScriptReply> {
    return this.#calls.call(operation, kind, script, keys, args);
  }

  /** A logout or rotation on the user's hash (ScriptCalls.revocation). */
  #revocation<T>(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    userId: string,
    args: (string | number)[],
    toResult: (reply: ScriptReply) => T | Promise<T>,
  ): Promise<T> {
    return this.#calls.revocation(operation, kind, script, [userKey(this.#options.prefix, userId)], args, toResult);
  }

  /** #call on the user's hash. */
  #userCall(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    userId: string,
    args: (string | number)[],
  ): Promise<ScriptReply> {
    return this.#call(operation, kind, script, [userKey(this.#options.prefix, userId)], args);
  }
}
