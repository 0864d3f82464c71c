/**
 * The invariants every scenario must leave standing, checked by reading
 * Redis directly (never through the store, whose reads renew sessions and
 * enqueue jobs):
 *
 * - noAcknowledgedLiveSessionLost: every session whose create was
 *   acknowledged, that no acknowledged or attempted removal covered, and
 *   whose acknowledged expiry has not passed, is still stored and live;
 * - noAcknowledgedRemovalUndone: every session an acknowledged remove,
 *   revoke or removeAll covered is gone;
 * - everyHashTtlCoversLatestExpiry: every user hash has a TTL, and it
 *   reaches at least its latest-expiring record's expiry;
 * - everyHashInActivitySet: every user hash holding a session is in its
 *   slot's activity shard, `activityShardKey(prefix, slotOf(userId))`, with a
 *   score at or before its earliest expiry, so the sweeper will find it;
 * - noUserOverLimit: no user holds more than maxSessionsPerUser live sessions;
 * - noDanglingData (after a cleanup has run): no expired record, no hash
 *   without a live session, no due activity entry left, and no entry in
 *   another slot's shard than its user's.
 *
 * Each user is read in one MULTI (the hash, its expiry time, its score in its
 * shard and Redis's clock), so a sweep running meanwhile is seen wholly
 * before or wholly after. Records are decoded with session-core's own
 * `decodeRecord`. The suite runs on a single Redis, where one MULTI may span
 * slots.
 */
import { activityShardKey, decodeRecord, slotOf, userKey } from "@multisession/session-core";
import type { Redis } from "ioredis";
import type { Ledger } from "./ledger.js";

export interface Violation {
  invariant: string;
  userId: string;
  detail: string;
}

/** One user as Redis held it at one instant. */
export interface UserSnapshot {
  userId: string;
  /** Redis TIME when read, ms. */
  now: number;
  hashExists: boolean;
  /** Session key → expiresAt (null for a record that does not decode). */
  records: Map<string, number | null>;
  /** PEXPIRETIME of the hash: ms since the epoch, -1 without a TTL, -2 when absent. */
  expireTime: number;
  /** The user's score in its slot's activity shard, null when absent. */
  activityScore: number | null;
}

export interface Snapshot {
  users: Map<string, UserSnapshot>;
  /** Activity entries found in a shard other than their user's slot's (the store never writes one). */
  strayActivity: { userId: string; shard: string }[];
}

const READ_BATCH = 200;

/** Reads every user the prefix holds (hashes and entries of every activity shard) plus `extraUsers`. */
export async function readSnapshot(redis: Redis, prefix: string, extraUsers: Iterable<string> = []): Promise<Snapshot> {
  const userIds = new Set<string>(extraUsers);
  const before = `${prefix}usersession:{`;
  for (const key of await scanKeys(redis, `${escapeGlob(before)}*`)) {
    if (key.endsWith("}")) userIds.add(key.slice(before.length, -1));
  }
  const strayActivity: Snapshot["strayActivity"] = [];
  for (const shard of await activityShards(redis, prefix)) {
    for (const member of await redis.zrange(shard, "0", "-1")) {
      userIds.add(member);
      if (activityShardKey(prefix, slotOf(member)) !== shard) strayActivity.push({ userId: member, shard });
    }
  }

  const users = new Map<string, UserSnapshot>();
  const list = [...userIds];
  for (let i = 0; i < list.length; i += READ_BATCH) {
    const batch = list.slice(i, i + READ_BATCH);
    const snapshots = await Promise.all(batch.map((userId) => readUser(redis, prefix, userId)));
    for (const snapshot of snapshots) users.set(snapshot.userId, snapshot);
  }
  return { users, strayActivity };
}

/**
 * How many activity entries of the prefix are due (scored at or before
 * Redis's clock), over every shard: 0 once the sweepers have caught up.
 */
export async function countDueActivity(redis: Redis, prefix: string): Promise<number> {
  const [seconds, micros] = await redis.time();
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const shards = await activityShards(redis, prefix);
  const counts = await Promise.all(shards.map((shard) => redis.zcount(shard, "-inf", String(now))));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** The prefix's activity shards that exist now (one per slot that holds users). */
function activityShards(redis: Redis, prefix: string): Promise<string[]> {
  return scanKeys(redis, `${escapeGlob(`${prefix}usersession-activity:{`)}*`);
}

async function readUser(redis: Redis, prefix: string, userId: string): Promise<UserSnapshot> {
  const key = userKey(prefix, userId);
  const activity = activityShardKey(prefix, slotOf(userId));
  const replies = await redis.multi().hgetall(key).call("PEXPIRETIME", key).zscore(activity, userId).time().exec();
  if (!replies) throw new Error(`snapshot of ${userId} aborted`);
  for (const [error] of replies) if (error) throw error;
  const [[, hash], [, expireTime], [, score], [, [seconds, micros]]] = replies as [
    [null, Record<string, string>],
    [null, number],
    [null, string | null],
    [null, [string, string]],
  ];
  const records = new Map<string, number | null>();
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith("#")) continue;
    records.set(field, decodeRecord(field, userId, value, null)?.expiresAt ?? null);
  }
  return {
    userId,
    now: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
    hashExists: Object.keys(hash).length > 0,
    records,
    expireTime: Number(expireTime),
    activityScore: score === null ? null : Number(score),
  };
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

export function noAcknowledgedLiveSessionLost(snapshot: Snapshot, ledger: Ledger): Violation[] {
  const violations: Violation[] = [];
  for (const session of ledger.sessions()) {
    if (session.state !== "live") continue;
    const user = snapshot.users.get(session.userId);
    if (!user || session.expiresAt <= user.now) continue;
    const expiresAt = user.records.get(session.sessionKey);
    if (expiresAt === undefined) {
      violations.push(violation("noAcknowledgedLiveSessionLost", session.userId, "an acknowledged session is gone"));
    } else if (expiresAt === null || expiresAt <= user.now) {
      violations.push(
        violation("noAcknowledgedLiveSessionLost", session.userId, "an acknowledged session is stored but not live"),
      );
    }
  }
  return violations;
}

export function noAcknowledgedRemovalUndone(snapshot: Snapshot, ledger: Ledger): Violation[] {
  const violations: Violation[] = [];
  for (const session of ledger.sessions()) {
    if (session.state !== "removed") continue;
    if (snapshot.users.get(session.userId)?.records.has(session.sessionKey)) {
      violations.push(violation("noAcknowledgedRemovalUndone", session.userId, "a removed session is back"));
    }
  }
  return violations;
}

export function everyHashTtlCoversLatestExpiry(snapshot: Snapshot): Violation[] {
  const violations: Violation[] = [];
  for (const user of snapshot.users.values()) {
    if (!user.hashExists) continue;
    if (user.expireTime === -1) {
      violations.push(violation("everyHashTtlCoversLatestExpiry", user.userId, "the hash has no TTL"));
      continue;
    }
    const latest = Math.max(...[...user.records.values()].map((expiresAt) => expiresAt ?? 0));
    if (user.records.size > 0 && user.expireTime < latest) {
      violations.push(
        violation(
          "everyHashTtlCoversLatestExpiry",
          user.userId,
          `the hash expires ${latest - user.expireTime} ms before its latest session`,
        ),
      );
    }
  }
  return violations;
}

export function everyHashInActivitySet(snapshot: Snapshot): Violation[] {
  const violations: Violation[] = [];
  for (const user of snapshot.users.values()) {
    const expiries = [...user.records.values()].filter((expiresAt): expiresAt is number => expiresAt !== null);
    if (expiries.length === 0) continue;
    const earliest = Math.min(...expiries);
    if (user.activityScore === null) {
      violations.push(violation("everyHashInActivitySet", user.userId, "the hash is not in its activity shard"));
    } else if (user.activityScore > earliest) {
      violations.push(
        violation(
          "everyHashInActivitySet",
          user.userId,
          `activity score ${user.activityScore - earliest} ms after the earliest expiry`,
        ),
      );
    }
  }
  return violations;
}

export function noUserOverLimit(snapshot: Snapshot, maxSessionsPerUser: number): Violation[] {
  const violations: Violation[] = [];
  for (const user of snapshot.users.values()) {
    let live = 0;
    for (const expiresAt of user.records.values()) if (expiresAt !== null && expiresAt > user.now) live++;
    if (live > maxSessionsPerUser) {
      violations.push(violation("noUserOverLimit", user.userId, `${live} live sessions, limit ${maxSessionsPerUser}`));
    }
  }
  return violations;
}

/**
 * Nothing left for a cleanup to do: no expired or corrupt record, no hash
 * without a live session, no activity entry that is due (score in the past)
 * or points at a missing hash, none in another slot's shard (no sweep of its
 * user's slot would find it). Only meaningful once a sweep has run after the
 * last expiry.
 */
export function noDanglingData(snapshot: Snapshot): Violation[] {
  const violations: Violation[] = [];
  for (const user of snapshot.users.values()) {
    let live = 0;
    let dead = 0;
    for (const expiresAt of user.records.values()) {
      if (expiresAt !== null && expiresAt > user.now) live++;
      else dead++;
    }
    if (dead > 0) violations.push(violation("noDanglingData", user.userId, `${dead} expired records left`));
    if (user.hashExists && live === 0) {
      violations.push(violation("noDanglingData", user.userId, "a hash without a live session"));
    }
    if (user.activityScore !== null && (!user.hashExists || user.activityScore <= user.now)) {
      violations.push(violation("noDanglingData", user.userId, "a due activity entry left"));
    }
  }
  for (const { userId, shard } of snapshot.strayActivity) {
    violations.push(violation("noDanglingData", userId, `an activity entry in another slot's shard (${shard})`));
  }
  return violations;
}

export interface InvariantCheck {
  /** Acknowledged-live sessions (not yet expired) checked present. */
  liveChecked: number;
  /** Acknowledged removals checked gone. */
  removalsChecked: number;
  usersChecked: number;
  violations: Violation[];
}

/** Every invariant but noDanglingData, on one snapshot. */
export async function checkInvariants(
  redis: Redis,
  options: { prefix: string; ledger: Ledger; maxSessionsPerUser: number; dangling?: boolean },
): Promise<InvariantCheck> {
  const { ledger } = options;
  const snapshot = await readSnapshot(redis, options.prefix, ledger.users());
  let liveChecked = 0;
  let removalsChecked = 0;
  for (const session of ledger.sessions()) {
    const now = snapshot.users.get(session.userId)?.now ?? 0;
    if (session.state === "live" && session.expiresAt > now) liveChecked++;
    if (session.state === "removed") removalsChecked++;
  }
  const violations = [
    ...noAcknowledgedLiveSessionLost(snapshot, ledger),
    ...noAcknowledgedRemovalUndone(snapshot, ledger),
    ...everyHashTtlCoversLatestExpiry(snapshot),
    ...everyHashInActivitySet(snapshot),
    ...noUserOverLimit(snapshot, options.maxSessionsPerUser),
    ...(options.dangling ? noDanglingData(snapshot) : []),
  ];
  return { liveChecked, removalsChecked, usersChecked: snapshot.users.size, violations };
}

function violation(invariant: string, userId: string, detail: string): Violation {
  return { invariant, userId, detail };
}
