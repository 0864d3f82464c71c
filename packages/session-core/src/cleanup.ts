/**
 * The store's cleanup side: the operations the worker calls, and nothing
 * else of the activity shards' bookkeeping is public.
 *
 * Activity shards. Each user is scored in the activity shard of its hash
 * slot (`keys.ts`), at or before the earliest expiry in its hash, so the
 * sweeper finds by score every user whose hash may hold expired sessions or
 * be dangling. Writers only ever lower a score (ZADD LT), inside their own
 * script (create). The sweep step claims due users off a shard (removing
 * them), cleans them and re-adds those still live, in one script per shard
 * and call: the shard and its users' hashes share a slot, so this is the same
 * single-slot script on one Redis and on a cluster.
 *
 * Finding work. `findDueSlots` asks each given shard for one due member
 * (a ZRANGE BYSCORE LIMIT 0 1, all sent at once), so a sweeper replica that
 * owns a group of slots learns in one round of cheap reads which shards need
 * a sweep step.
 *
 * Older releases kept one activity set for all users; `drainLegacyActivity`
 * moves its members into their shards (the worker's sweep does, once).
 */
import type { Cluster, Redis } from "ioredis";
import { InvalidInputError, SessionBackendError } from "./errors.js";
import {
  activityKeyOf,
  activityShardKey,
  assertSlot,
  assertUserId,
  legacyActivityKey,
  userKey,
  userKeyAround,
} from "./keys.js";
import type { SessionLogger } from "./options.js";
import type { RedisClock } from "./redis-clock.js";
import type { ScriptName, ScriptReply } from "./scripts/index.js";

/** What one sweep step did. */
export interface SweepStepResult {
  /** Due users claimed and cleaned (or found gone). */
  usersCleaned: number;
  sessionsDeleted: number;
  hashesDeleted: number;
}

/**
 * Users one sweep script takes at most. Each costs Redis a few microseconds
 * (more for each live session, whose record it checks whole), so a call
 * holds Redis for a millisecond or so, and API reads queued behind it wait
 * no longer than that.
 */
const USERS_PER_SWEEP_CALL = 128;
/** Shards asked at once by findDueSlots. */
const DUE_QUERIES_IN_FLIGHT = 1_024;
/** Old-set members removed per script call while draining. */
const DRAIN_PAIRS_PER_CALL = 500;

const SESSION_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Runs one script the store's one way (see store.ts #call) and returns its status-first reply. */
export type ScriptCall = (
  operation: string,
  script: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<ScriptReply>;

export interface CleanupDeps {
  redis: Redis | Cluster;
  prefix: string;
  keyGraceMs: number;
  logger: SessionLogger;
  clock: RedisClock;
  call: ScriptCall;
}

function assertLimit(limit: unknown): asserts limit is number {
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) {
    throw new InvalidInputError("limit", `must be an integer from 1 to 100000 (received ${String(limit)})`);
  }
}

export class Cleanup {
  readonly #deps: CleanupDeps;
  readonly #userKeyAround: [before: string, after: string];
  readonly #grace: string;

  constructor(deps: CleanupDeps) {
    this.#deps = deps;
    this.#userKeyAround = userKeyAround(deps.prefix);
    this.#grace = String(deps.keyGraceMs);
  }

  /** Deletes one session if it is still expired (or corrupt) now; the deletion job's operation. */
  async deleteExpiredSession(
    userId: string,
    sessionKey: string,
  ): Promise<{ deletedSession: boolean; deletedHash: boolean }> {
    assertUserId(userId);
    if (typeof sessionKey !== "string" || !SESSION_KEY_PATTERN.test(sessionKey)) {
      throw new InvalidInputError("sessionKey", "is malformed (expected 43 base64url characters)");
    }
    const reply = await this.#deps.call(
      "deleteExpiredSession",
      "deleteExpiredSession",
      [userKey(this.#deps.prefix, userId)],
      [sessionKey],
    );
    return { deletedSession: reply[1] === 1, deletedHash: reply[2] === 1 };
  }

  /** Of the given slots, those whose activity shard holds a user due now, in the order given. */
  async findDueSlots(slots: readonly number[]): Promise<number[]> {
    if (!Array.isArray(slots)) throw new InvalidInputError("slots", "must be an array of slot numbers");
    slots.forEach((slot, index) => {
      assertSlot(slot, `slots[${index}]`);
    });
    const { clock, redis, prefix } = this.#deps;
    // Judged with Redis's clock (its latest possible reading): a shard due a moment early costs one empty step.
    let now = clock.latestMs();
    if (Number.isNaN(now)) {
      await clock.sync();
      now = clock.latestMs();
      if (Number.isNaN(now)) throw new SessionBackendError("findDueSlots", new Error("could not read Redis's clock"));
    }
    const upTo = String(Math.floor(now));
    const due: boolean[] = new Array(slots.length).fill(false);
    try {
      for (let start = 0; start < slots.length; start += DUE_QUERIES_IN_FLIGHT) {
        const batch = slots.slice(start, start + DUE_QUERIES_IN_FLIGHT);
        const answers = await Promise.all(
          batch.map((slot) => redis.zrange(activityShardKey(prefix, slot), "-inf", upTo, "BYSCORE", "LIMIT", 0, 1)),
        );
        answers.forEach((members, i) => {
          due[start + i] = members.length > 0;
        });
      }
    } catch (error) {
      throw new SessionBackendError("findDueSlots", error);
    }
    return slots.filter((_, i) => due[i]);
  }

  /**
   * The sweeper's step on one slot: claims up to `limit` due users of its
   * shard, cleans each one (expired and corrupt sessions go, the hash goes
   * when nothing live is left) and puts those still live back at their
   * earliest live expiry; atomic per script call of at most 128 users.
   * Fewer users cleaned than `limit` means the shard had no more due now.
   */
  async sweepSlot(slot: number, limit: number): Promise<SweepStepResult> {
    assertSlot(slot, "slot");
    assertLimit(limit);
    const shard = activityShardKey(this.#deps.prefix, slot);
    const [before, after] = this.#userKeyAround;
    const total: SweepStepResult = { usersCleaned: 0, sessionsDeleted: 0, hashesDeleted: 0 };
    while (total.usersCleaned < limit) {
      const want = Math.min(limit - total.usersCleaned, USERS_PER_SWEEP_CALL);
      const reply = await this.#deps.call("sweepSlot", "sweepShard", [shard], [want, before, after, this.#grace]);
      const [users, sessions, hashes] = reply.slice(1, 4).map(Number) as [number, number, number];
      const wrongTypes: [userId: string, type: string][] = [];
      for (let i = 4; i + 1 < reply.length; i += 2) wrongTypes.push([String(reply[i]), String(reply[i + 1])]);
      this.#warnWrongTypes(wrongTypes);
      total.usersCleaned += users;
      total.sessionsDeleted += sessions;
      total.hashesDeleted += hashes;
      if (users < want) break;
    }
    return total;
  }

  /**
   * Moves up to `limit` users from the single activity set of earlier
   * releases into their shards, never raising a score they have there, and
   * only then takes them off the old set (a score lowered there meanwhile is
   * moved on a later call). Returns how many members it handled; 0 once the
   * old set is gone. Safe to run from several sweepers at once.
   */
  async drainLegacyActivity(limit: number): Promise<number> {
    assertLimit(limit);
    const { redis, prefix, logger } = this.#deps;
    const legacy = legacyActivityKey(prefix);
    let entries: string[];
    try {
      entries = await redis.zrange(legacy, "0", String(limit - 1), "WITHSCORES");
    } catch (error) {
      throw new SessionBackendError("drainLegacyActivity", error);
    }
    if (entries.length === 0) return 0;
    const byShard = new Map<string, string[]>();
    for (let i = 0; i < entries.length; i += 2) {
      const userId = entries[i] as string;
      try {
        assertUserId(userId);
      } catch {
        // Not a user id of ours (a foreign writer): dropped from the old set, not moved.
        logger.warn({ member: userId.slice(0, 64) }, "old activity set held a member that is no user id: dropped");
        continue;
      }
      const shard = activityKeyOf(prefix, userId);
      const args = byShard.get(shard) ?? [];
      byShard.set(shard, args);
      args.push(entries[i + 1] as string, userId);
    }
    await Promise.all(
      [...byShard].map(([shard, args]) => this.#deps.call("drainLegacyActivity", "addToShard", [shard], args)),
    );
    for (let i = 0; i < entries.length; i += DRAIN_PAIRS_PER_CALL * 2) {
      await this.#deps.call(
        "drainLegacyActivity",
        "drainLegacyActivity",
        [legacy],
        entries.slice(i, i + DRAIN_PAIRS_PER_CALL * 2),
      );
    }
    return entries.length / 2;
  }

  /**
   * A user whose key holds another type than a hash was skipped by the sweep
   * and, being no user of ours, not put back in its shard: logged once, here,
   * with its user id.
   */
  #warnWrongTypes(wrongTypes: readonly [userId: string, type: string][]): void {
    const seen = new Set<string>();
    for (const [userId, type] of wrongTypes) {
      if (seen.has(userId)) continue;
      seen.add(userId);
      this.#deps.logger.warn({ userId, type }, "user key is not a hash (another writer's data?): left alone");
    }
  }
}
