/**
 * The stored form of one session, the value of its hash field:
 *
 *     2|<createdAt>|<lastSeenAt>|<expiresAt>|<absoluteExpiresAt>|<body>
 *
 * Times are ms in base 36, written by the Lua scripts from Redis `TIME`:
 * createdAt since the epoch (8 characters until the year 2059), the other
 * three as offsets from createdAt. The body is one JSON array,
 * `[data, name, platform, userAgent, ip, handle]`: null for an absent device
 * field, trailing absent ones left out. `handle` is stored only for a session
 * whose secret was rotated (it keeps its public handle while its field, the
 * SHA-256 of the new secret, changes); absent or null, the handle is the
 * field's first 16 characters. The header is plain text so that scripts read
 * and renew it with one `string.match`; `expiresAt` is already the earlier of
 * the idle and absolute expiries. The `2|` tag marks the format.
 *
 * One definition of a valid record, for `decodeRecord` here and for the Lua
 * scripts (`scripts/includes/record.lua`), tested against each other on the
 * same values (test/store/record-parsers.test.ts). Anything else is corrupt:
 * no session for every operation, deleted by whichever operation meets it.
 * - The tag `2|`, then four times of 1 to 10 base-36 digits `[0-9a-z]`
 *   (10 digits stay below 2^53, exact in a Lua number), each ending in `|`.
 * - The body is JSON text (RFC 8259, as JSON.parse takes it, whitespace
 *   between tokens allowed) with one extension and three limits, so that
 *   Redis's cjson (decode_invalid_numbers off) and JSON.parse agree on it:
 *   strings may hold raw control characters U+0001 to U+001F, as cjson takes
 *   them (this side escapes them and parses again, off the hot path); no NUL
 *   anywhere; no lone surrogate escape (`"\ud800"`), which cjson refuses;
 *   arrays and objects nested at most 1000 deep (cjson's limit; the body array
 *   is level 1). cjson's other laxities (a trailing decimal point, "-.5") are
 *   refused on the Lua side, JSON.parse's (lone surrogates, depth) here.
 * - The body is a non-empty array; elements 1 to 4 are strings or null;
 *   element 5 is null or a handle (16 base64url characters); element 0 (the
 *   data) and elements 6 on may be any JSON.
 *
 * Compatibility. A later release may append elements to the body (index 6
 * on) without a new tag: this release reads such a record, ignores what it
 * does not know, and keeps those elements byte for byte when it rewrites the
 * record (renewal rewrites the header only; a rotation keeps them). Anything
 * else (another meaning or type for an existing element, another header)
 * needs a new tag, which this release treats as corrupt and deletes; so a
 * release that writes a new tag must follow one that reads it.
 */
import type { Device, JsonValue } from "./payload.js";
import { assertHandle, handleOf, isHandle } from "./token.js";

/**
 * One device session as callers see it. Never holds a secret.
 *
 * @typeParam Data - the type of this session's `data` (see SessionStore).
 * @typeParam UserInfo - the type of the user info all of the user's sessions share.
 */
export interface Session<Data = JsonValue, UserInfo = JsonValue> {
  /** Public id of this session, shown in device lists and taken by `revoke`. */
  handle: string;
  userId: string;
  /** This session's own application data (`{}` when `create` was given none). */
  data: Data;
  /** The user info shared by all of this user's sessions; null until set. */
  userInfo: UserInfo | null;
  /** What the caller said of the device at login. */
  device: Device;
  /** When the session was created, in ms since the epoch (Redis's clock). */
  createdAt: number;
  /** When it was last used (renewed), in ms since the epoch. */
  lastSeenAt: number;
  /** When it expires unless used again: the earlier of its idle and absolute expiries, in ms since the epoch. */
  expiresAt: number;
}

const DEVICE_ORDER = ["name", "platform", "userAgent", "ip"] as const;
/** Digits of one header time at most, on both sides. */
export const MAX_TIME_DIGITS = 10;
/** cjson's decode_max_depth: arrays and objects nested deeper are corrupt on both sides. */
const MAX_BODY_DEPTH = 1000;

/**
 * The body: `[data, name, platform, userAgent, ip]`, trailing absent fields left out, or with a
 * stored `handle` as element 5 (device fields before it null when absent).
 */
export function encodeBody(dataJson: string, device: Device, handle?: string): string {
  let last = DEVICE_ORDER.length - 1;
  if (handle === undefined) {
    while (last >= 0 && device[DEVICE_ORDER[last] as keyof Device] === undefined) last--;
  }
  let body = `[${dataJson}`;
  for (let i = 0; i <= last; i++) {
    const field = device[DEVICE_ORDER[i] as keyof Device];
    body += field === undefined ? ",null" : `,${JSON.stringify(field)}`;
  }
  if (handle !== undefined) body += `,"${handle}"`;
  return `${body}]`;
}

/**
 * A record exactly as the scripts store it, for seeding data outside a script
 * (benchmarks, migrations, tests). Times are ms since the epoch. `handle`
 * (16 base64url characters) is stored for a session that keeps a handle other
 * than its field's first characters, as a rotated one does.
 */
export function encodeRecord(
  times: { createdAt: number; lastSeenAt: number; expiresAt: number; absoluteExpiresAt: number },
  data: JsonValue,
  device: Device,
  handle?: string,
): string {
  if (handle !== undefined) assertHandle(handle);
  const { createdAt, lastSeenAt, expiresAt, absoluteExpiresAt } = times;
  const header = [createdAt, lastSeenAt - createdAt, expiresAt - createdAt, absoluteExpiresAt - createdAt]
    .map((t) => Math.max(0, t).toString(36))
    .join("|");
  return `2|${header}|${encodeBody(JSON.stringify(data), device, handle)}`;
}

/** Value of one base-36 digit as written (0-9, a-z); -1 if none. */
function digitOf(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  return -1;
}

/** A record's header: its times (ms since the epoch) and where its body starts. */
export interface RecordHeader {
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  bodyStart: number;
}

/**
 * The header alone, digit by digit (this runs on every read); null when malformed. The sweeper
 * judges a record by its header alone (`parseHeader` in scripts/includes/record.lua; the two are
 * checked against each other in test/store/record-parsers.test.ts): it keeps a record whose header
 * is valid and says live, and leaves its body to the reads.
 */
export function decodeHeader(value: string): RecordHeader | null {
  if (value.charCodeAt(0) !== 50 /* "2" */ || value.charCodeAt(1) !== 124 /* "|" */) return null;
  let at = 2;
  let createdAt = 0;
  let lastSeenAt = 0;
  let expiresAt = 0;
  for (let n = 0; n < 4; n++) {
    const start = at;
    let time = 0;
    for (let code = value.charCodeAt(at); code !== 124 /* "|" */; code = value.charCodeAt(++at)) {
      // NaN (past the end) has no digit value either.
      const digit = digitOf(code);
      if (digit < 0 || at - start >= MAX_TIME_DIGITS) return null;
      time = time * 36 + digit;
    }
    if (at === start) return null;
    if (n === 0) createdAt = time;
    else if (n === 1) lastSeenAt = createdAt + time;
    else if (n === 2) expiresAt = createdAt + time;
    at++;
  }
  return { createdAt, lastSeenAt, expiresAt, bodyStart: at };
}

/** Decodes a stored record; null when it is corrupt in any way (the rule above). */
export function decodeRecord(
  sessionKey: string,
  userId: string,
  value: string,
  userInfo: JsonValue | null,
): Session | null {
  const header = decodeHeader(value);
  if (header === null) return null;
  const { createdAt, lastSeenAt, expiresAt } = header;
  const text = value.slice(header.bodyStart);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const escaped = escapeControlsInStrings(text);
    if (escaped === null) return null;
    try {
      body = JSON.parse(escaped);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(body) || body.length === 0) return null;
  const device: Device = {};
  const deviceEnd = Math.min(body.length, 1 + DEVICE_ORDER.length);
  for (let i = 1; i < deviceEnd; i++) {
    const field = body[i];
    if (field === null) continue;
    if (typeof field !== "string") return null;
    device[DEVICE_ORDER[i - 1] as keyof Device] = field;
  }
  const stored: unknown = body[1 + DEVICE_ORDER.length];
  if (stored != null && !isHandle(stored)) return null;
  // What JSON.parse takes and cjson refuses. A lone surrogate can only come from a \u escape (Redis's
  // bytes are decoded as UTF-8), and nesting past the limit takes two characters a level.
  if ((text.length > 2 * MAX_BODY_DEPTH || text.includes("\\u")) && beyondCjson(body, 1)) return null;
  return {
    handle: typeof stored === "string" ? stored : handleOf(sessionKey),
    userId,
    data: body[0] as JsonValue,
    userInfo,
    device,
    createdAt,
    lastSeenAt,
    expiresAt,
  };
}

/**
 * `text` with raw control characters U+0001 to U+001F inside strings written as
 * escapes, as cjson reads them; null when there are none (nothing to try again).
 * One right after a backslash is left alone: an escape of it is invalid on both sides.
 */
function escapeControlsInStrings(text: string): string | null {
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!inString) {
      inString = code === 34; /* '"' */
    } else if (code === 92 /* "\\" */) {
      i++;
    } else if (code === 34) {
      inString = false;
    } else if (code < 32 && code !== 0) {
      out += `${text.slice(from, i)}\\u${code.toString(16).padStart(4, "0")}`;
      from = i + 1;
    }
  }
  return from === 0 ? null : out + text.slice(from);
}

/** Whether a parsed value nests past cjson's limit or holds a lone surrogate (in a string or a key). */
function beyondCjson(value: unknown, depth: number): boolean {
  if (typeof value === "string") return !value.isWellFormed();
  if (value === null || typeof value !== "object") return false;
  if (depth > MAX_BODY_DEPTH) return true;
  if (Array.isArray(value)) return value.some((item) => beyondCjson(item, depth + 1));
  for (const [key, item] of Object.entries(value)) {
    if (!key.isWellFormed() || beyondCjson(item, depth + 1)) return true;
  }
  return false;
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
