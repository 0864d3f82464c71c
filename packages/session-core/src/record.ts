/**
 * The stored form of one session, the value of its hash field:
 *
 *     1|<createdAt>|<lastSeenAt>|<expiresAt>|<absoluteExpiresAt>|<body JSON>
 *
 * Times are ms since the epoch, written by the Lua scripts from Redis `TIME`.
 * The header is plain text so that scripts can read and renew it with one
 * `string.match`, without decoding the body; the body (`{"d":data,"v":device}`)
 * is written by this module and never parsed in Lua. `expiresAt` is already
 * the earlier of the idle and absolute expiries. The Lua side of this format
 * lives in `scripts/includes/record.lua`.
 */
import type { Device, JsonValue } from "./payload.js";
import { handleOf } from "./token.js";

/** One device session as callers see it. Never holds a secret. */
export interface Session {
  /** Public id of this session, shown in device lists and taken by `revoke`. */
  handle: string;
  userId: string;
  data: JsonValue;
  /** The user info shared by all of this user's sessions; null until set. */
  userInfo: JsonValue | null;
  device: Device;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export function encodeBody(dataJson: string, device: Device): string {
  return `{"d":${dataJson},"v":${JSON.stringify(device)}}`;
}

/**
 * A record exactly as the scripts store it, for seeding data outside a script
 * (benchmarks, migrations). Times are ms since the epoch.
 */
export function encodeRecord(
  times: { createdAt: number; lastSeenAt: number; expiresAt: number; absoluteExpiresAt: number },
  data: JsonValue,
  device: Device,
): string {
  const { createdAt, lastSeenAt, expiresAt, absoluteExpiresAt } = times;
  return `1|${createdAt}|${lastSeenAt}|${expiresAt}|${absoluteExpiresAt}|${encodeBody(JSON.stringify(data), device)}`;
}

/** Decodes a stored record; null when it is corrupt in any way. */
export function decodeRecord(
  sessionKey: string,
  userId: string,
  value: string,
  userInfo: JsonValue | null,
): Session | null {
  // The header, digit by digit: this runs on every read.
  if (value.charCodeAt(0) !== 49 /* "1" */ || value.charCodeAt(1) !== 124 /* "|" */) return null;
  let at = 2;
  let createdAt = 0;
  let lastSeenAt = 0;
  let expiresAt = 0;
  for (let n = 0; n < 4; n++) {
    const start = at;
    let time = 0;
    for (let code = value.charCodeAt(at); code !== 124 /* "|" */; code = value.charCodeAt(++at)) {
      const digit = code - 48;
      // NaN (past the end) fails this test too.
      if (!(digit >= 0 && digit <= 9) || at - start >= 15) return null;
      time = time * 10 + digit;
    }
    if (at === start) return null;
    if (n === 0) createdAt = time;
    else if (n === 1) lastSeenAt = time;
    else if (n === 2) expiresAt = time;
    at++;
  }
  const start = at;
  let body: unknown;
  try {
    body = JSON.parse(value.slice(start));
  } catch {
    return null;
  }
  if (body === null || typeof body !== "object" || !("d" in body)) return null;
  const { d, v } = body as { d: JsonValue; v?: unknown };
  if (v !== undefined && (v === null || typeof v !== "object" || Array.isArray(v))) return null;
  return {
    handle: handleOf(sessionKey),
    userId,
    data: d,
    userInfo,
    device: (v as Device | undefined) ?? {},
    createdAt,
    lastSeenAt,
    expiresAt,
  };
}

/** Parses the stored user info; a corrupt one reads as null. */
export function decodeUserInfo(value: string | null | undefined): JsonValue | null {
  if (value == null) return null;
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    return null;
  }
}
