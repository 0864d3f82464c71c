/**
 * Secrets, tokens and what Redis keeps of them.
 *
 * - The secret (`sessionId`): 32 bytes from the CSPRNG, base64url, 43 characters.
 * - The session key: base64url(SHA-256(secret)), the hash field. Redis only ever
 *   sees this, so a dump of Redis lets nobody log in.
 * - The handle: the first 16 characters of the session key. Public: `list` shows
 *   it and `revoke` takes it. It reveals nothing usable about the secret.
 * - The token: `<base64url(userId)>.<secret>`, one opaque bearer string.
 *   Decoding one keeps nothing of it: no cache here holds what a caller sent
 *   before a session was found (a stranger's junk tokens would fill it).
 */
import { isUtf8 } from "node:buffer";
import * as crypto from "node:crypto";
import { createHash, randomFillSync } from "node:crypto";
import { InvalidInputError } from "./errors.js";
import { assertUserId } from "./keys.js";
import { INPUT_LIMITS } from "./limits.js";

const SECRET_BYTES = 32;
export const HANDLE_LENGTH = INPUT_LIMITS.handle;
const SECRET_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${INPUT_LIMITS.sessionId}}$`);
const HANDLE_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${HANDLE_LENGTH}}$`);
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;

// crypto.hash (Node 20.12+) hashes small inputs without allocating a Hash object.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "base64url") => string }).hash;

// Secrets come from a pool refilled from the CSPRNG 256 at a time: one system call instead of one per login.
const POOL_SECRETS = 256;
const pool = Buffer.alloc(SECRET_BYTES * POOL_SECRETS);
let poolOffset = pool.length;

export function newSecret(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const secret = pool.toString("base64url", poolOffset, poolOffset + SECRET_BYTES);
  // Never hand out the same bytes twice, even if the pool is read again before a refill.
  pool.fill(0, poolOffset, poolOffset + SECRET_BYTES);
  poolOffset += SECRET_BYTES;
  return secret;
}

export function sessionKeyOf(secret: string): string {
  return oneShotHash
    ? oneShotHash("sha256", secret, "base64url")
    : createHash("sha256").update(secret).digest("base64url");
}

export function handleOf(sessionKey: string): string {
  return sessionKey.slice(0, HANDLE_LENGTH);
}

export function encodeToken(userId: string, secret: string): string {
  return `${Buffer.from(userId, "utf8").toString("base64url")}.${secret}`;
}

/** Splits a bearer token. Throws InvalidInputError("token", ...) without ever echoing the token. */
export function decodeToken(token: unknown): { userId: string; secret: string } {
  if (typeof token !== "string") throw new InvalidInputError("token", `must be a string (received ${typeof token})`);
  if (token.length === 0 || token.length > INPUT_LIMITS.token) {
    throw new InvalidInputError("token", "is malformed (wrong length)");
  }
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf("."))
    throw new InvalidInputError("token", "is malformed (expected <user>.<secret>)");
  const encodedUser = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!SECRET_PATTERN.test(secret))
    throw new InvalidInputError("token", "is malformed (bad characters or secret length)");
  const userId = decodeUserPart(encodedUser);
  return { userId, secret };
}

/**
 * What a bearer token carries: the user id and the session id (the secret),
 * for calls that take them (`remove`, `removeOthers`, `setUserInfo`).
 * Throws InvalidInputError("token", ...) for a malformed token.
 */
export function parseToken(token: string): { userId: string; sessionId: string } {
  const { userId, secret } = decodeToken(token);
  return { userId, sessionId: secret };
}

function decodeUserPart(encodedUser: string): string {
  if (!BASE64URL_PATTERN.test(encodedUser)) {
    throw new InvalidInputError("token", "is malformed (bad characters or secret length)");
  }
  const bytes = Buffer.from(encodedUser, "base64url");
  // Decoding is lenient; only a canonical encoding of a valid user id is a valid token.
  if (bytes.toString("base64url") !== encodedUser || !isUtf8(bytes)) {
    throw new InvalidInputError("token", "is malformed (user part is not canonical base64url UTF-8)");
  }
  const userId = bytes.toString("utf8");
  try {
    assertUserId(userId);
  } catch (error) {
    throw new InvalidInputError("token", `is malformed (its ${(error as InvalidInputError).message})`);
  }
  return userId;
}

export function assertSecret(secret: unknown, field = "sessionId"): asserts secret is string {
  if (typeof secret !== "string") throw new InvalidInputError(field, `must be a string (received ${typeof secret})`);
  if (!SECRET_PATTERN.test(secret))
    throw new InvalidInputError(field, "is malformed (expected 43 base64url characters)");
}

/** A public handle's form: what `list` shows, `revoke` takes and a rotated session's record stores. */
export function isHandle(value: unknown): value is string {
  return typeof value === "string" && HANDLE_PATTERN.test(value);
}

export function assertHandle(handle: unknown): asserts handle is string {
  if (typeof handle !== "string") throw new InvalidInputError("handle", `must be a string (received ${typeof handle})`);
  if (!isHandle(handle)) throw new InvalidInputError("handle", "is malformed (expected 16 base64url characters)");
}
