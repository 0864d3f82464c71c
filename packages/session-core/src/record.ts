/**
 * The stored form of one session, the value of its hash field. Version 2,
 * written by this release:
 *
 *     2|<createdAt>|<lastSeenAt>|<expiresAt>|<absoluteExpiresAt>|<body>
 *
 * Times are ms in base 36, written by the Lua scripts from Redis `TIME`:
 * createdAt since the epoch (8 characters until the year 2059), the other
 * three as offsets from createdAt (1 to 7 characters). The body is one JSON array,
 * `[data, name, platform, userAgent, ip]`, null for an absent device field and
 * trailing ones left out. The header is plain text so that scripts read and
 * renew it with one `string.match`, without decoding the body, which is
 * written by this module and never parsed in Lua. `expiresAt` is already the
 * earlier of the idle and absolute expiries.
 *
 * Version 1, written by earlier releases, is still read, and renewed in its
 * own version, until its sessions end (at most absoluteTimeoutMs after an
 * upgrade): decimal times and the body `{"d":data,"v":device}`.
 *
 * Version 2 is 75 to 80 bytes shorter for a typical session, which for the
 * benchmark's payload also keeps a two-session hash in a smaller allocation
 * (docs/benchmarks.md). The Lua side of the format is `scripts/includes/record.lua`.
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

const DEVICE_ORDER = ["name", "platform", "userAgent", "ip"] as const;

/** The version 2 body: `[data, name, platform, userAgent, ip]`, trailing absent fields left out. */
export function encodeBody(dataJson: string, device: Device): string {
  let last = DEVICE_ORDER.length - 1;
  while (last >= 0 && device[DEVICE_ORDER[last] as keyof Device] === undefined) last--;
  let body = `[${dataJson}`;
  for (let i = 0; i <= last; i++) {
    const field = device[DEVICE_ORDER[i] as keyof Device];
    body += field === undefined ? ",null" : `,${JSON.stringify(field)}`;
  }
  return `${body}]`;
}

/**
 * A record exactly as the scripts store it (version 2), for seeding data
 * outside a script (benchmarks, migrations). Times are ms since the epoch.
 */
export function encodeRecord(
  times: { createdAt: number; lastSeenAt: number; expiresAt: number; absoluteExpiresAt: number },
  data: JsonValue,
  device: Device,
): string {
  const { createdAt, lastSeenAt, expiresAt, absoluteExpiresAt } = times;
  const header = [createdAt, lastSeenAt - createdAt, expiresAt - createdAt, absoluteExpiresAt - createdAt]
    .map((t) => Math.max(0, t).toString(36))
    .join("|");
  return `2|${header}|${encodeBody(JSON.stringify(data), device)}`;
}

/** Value of one digit in `radix` (10 or 36; lower-case letters only, as written); -1 if none. */
function digitOf(code: number, radix: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (radix === 36 && code >= 97 && code <= 122) return code - 87;
  return -1;
}

/** Decodes a stored record of either version; null when it is corrupt in any way. */
export function decodeRecord(
  sessionKey: string,
  userId: string,
  value: string,
  userInfo: JsonValue | null,
): Session | null {
  // The header, digit by digit: this runs on every read.
  const version = value.charCodeAt(0) - 48;
  if ((version !== 1 && version !== 2) || value.charCodeAt(1) !== 124 /* "|" */) return null;
  const radix = version === 2 ? 36 : 10;
  let at = 2;
  let createdAt = 0;
  let lastSeenAt = 0;
  let expiresAt = 0;
  for (let n = 0; n < 4; n++) {
    const start = at;
    let time = 0;
    for (let code = value.charCodeAt(at); code !== 124 /* "|" */; code = value.charCodeAt(++at)) {
      // NaN (past the end) has no digit value either.
      const digit = digitOf(code, radix);
      if (digit < 0 || at - start >= 15) return null;
      time = time * radix + digit;
    }
    if (at === start) return null;
    if (n === 0) createdAt = time;
    else if (n === 1) lastSeenAt = time;
    else if (n === 2) expiresAt = time;
    at++;
  }
  if (version === 2) {
    lastSeenAt += createdAt;
    expiresAt += createdAt;
  }
  let body: unknown;
  try {
    body = JSON.parse(value.slice(at));
  } catch {
    return null;
  }
  const parts = version === 2 ? bodyV2(body) : bodyV1(body);
  if (!parts) return null;
  return {
    handle: handleOf(sessionKey),
    userId,
    data: parts.data,
    userInfo,
    device: parts.device,
    createdAt,
    lastSeenAt,
    expiresAt,
  };
}

function bodyV2(body: unknown): { data: JsonValue; device: Device } | null {
  if (!Array.isArray(body) || body.length === 0 || body.length > 1 + DEVICE_ORDER.length) return null;
  const device: Device = {};
  for (let i = 1; i < body.length; i++) {
    const field = body[i];
    if (field === null) continue;
    if (typeof field !== "string") return null;
    device[DEVICE_ORDER[i - 1] as keyof Device] = field;
  }
  return { data: body[0] as JsonValue, device };
}

function bodyV1(body: unknown): { data: JsonValue; device: Device } | null {
  if (body === null || typeof body !== "object" || !("d" in body)) return null;
  const { d, v } = body as { d: JsonValue; v?: unknown };
  if (v !== undefined && (v === null || typeof v !== "object" || Array.isArray(v))) return null;
  return { data: d, device: (v as Device | undefined) ?? {} };
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
