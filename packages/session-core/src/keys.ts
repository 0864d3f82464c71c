/**
 * Redis key names. One hash per user, `<prefix>usersession:{<userId>}`: the
 * braces make the user id the Redis Cluster hash tag, so every key of one user
 * lands in one slot. The user id goes into the key as it is, so the rules in
 * `assertUserId` are what keep two users from ever sharing a key: no braces
 * (they would move the hash tag), no control characters, no lone surrogates
 * (two such strings could encode to the same UTF-8 bytes).
 *
 * Inside the hash, session fields are 43 base64url characters; the one other
 * field, `#info`, holds the user info all of the user's sessions share.
 */
import keySlot from "cluster-key-slot";
import { InvalidInputError } from "./errors.js";
import { INPUT_LIMITS } from "./limits.js";
import { SLOT_TAGS } from "./slot-tags.js";

/** The user info field; scripts/includes/record.lua names it too (INFO_FIELD). */
export const USER_INFO_FIELD = "#info";

/** The longest user id in UTF-16 code units (`string.length`); the same number as `INPUT_LIMITS.userId`. */
export const MAX_USER_ID_LENGTH = INPUT_LIMITS.userId;

export function userKey(prefix: string, userId: string): string {
  return `${prefix}usersession:{${userId}}`;
}

/** What goes before and after the user id in `userKey`, for a script that builds keys from user ids. */
export function userKeyAround(prefix: string): [before: string, after: string] {
  return [`${prefix}usersession:{`, "}"];
}

/** Redis Cluster's hash slots; a single Redis uses the same numbering, so both topologies share one layout. */
export const SLOT_COUNT = 16_384;

/** The hash slot of every key of this user (the user id is its keys' hash tag). */
export function slotOf(userId: string): number {
  return keySlot(userId);
}

/** Throws InvalidInputError naming `field` unless `slot` is a hash slot (an integer from 0 to 16383). */
export function assertSlot(slot: unknown, field = "slot"): asserts slot is number {
  if (typeof slot !== "number" || !Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new InvalidInputError(field, `must be an integer from 0 to ${SLOT_COUNT - 1} (received ${String(slot)})`);
  }
}

/**
 * The activity shard of one slot: the sorted set of that slot's users, scored
 * by when their hash next needs the sweeper (see `cleanup.ts`). Its hash tag is
 * a fixed three-character string whose CRC16 lands in that slot
 * (`slot-tags.ts`), so a user's hash and its shard always share a slot: on a
 * cluster, one script can touch both.
 */
export function activityShardKey(prefix: string, slot: number): string {
  assertSlot(slot);
  return `${prefix}usersession-activity:{${SLOT_TAGS.slice(slot * 3, slot * 3 + 3)}}`;
}

/** The user's activity shard. */
export function activityKeyOf(prefix: string, userId: string): string {
  return activityShardKey(prefix, slotOf(userId));
}

/**
 * The single activity set of releases before the shards: the sweeper drains
 * it into the shards once (`drainLegacyActivity`); nothing writes it any more.
 */
export function legacyActivityKey(prefix: string): string {
  return `${prefix}usersession-activity`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects.
const FORBIDDEN_IN_USER_ID = /[{}\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

export function assertUserId(userId: unknown, field = "userId"): asserts userId is string {
  if (typeof userId !== "string") {
    throw new InvalidInputError(field, `must be a string (received ${typeof userId})`);
  }
  if (userId.length === 0) throw new InvalidInputError(field, "must not be empty");
  if (userId.length > MAX_USER_ID_LENGTH) {
    throw new InvalidInputError(
      field,
      `must be at most ${MAX_USER_ID_LENGTH} UTF-16 code units (received ${userId.length})`,
    );
  }
  if (FORBIDDEN_IN_USER_ID.test(userId)) {
    throw new InvalidInputError(field, "must not contain braces, control characters or line separators");
  }
  if (!userId.isWellFormed())
    throw new InvalidInputError(field, "must be well-formed Unicode (it has a lone surrogate)");
}
