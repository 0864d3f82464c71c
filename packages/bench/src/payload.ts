/**
 * The one session every system stores: a device (name, platform, user agent,
 * ip) and a few data fields, about 300 bytes of JSON.
 */
import { randomBytes } from "node:crypto";
import { type Device, encodeRecord, type JsonValue } from "@multisession/session-core";
import { Cookie } from "express-session";

export const DEVICE: Device = {
  name: "Pixel 9 Pro",
  platform: "android",
  userAgent: "Mozilla/5.0 (Linux; Android 15; Pixel 9 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile",
  ip: "203.0.113.42",
};

export const DATA: { [key: string]: JsonValue } = {
  locale: "en-GB",
  theme: "dark",
  cartId: "c_8f3a2b91",
  roles: ["customer"],
  mfa: true,
};

/** What connect-redis and the raw baselines store: the same fields in one JSON object. */
export const SESSION_OBJECT = { device: DEVICE, data: DATA };
export const SESSION_JSON = JSON.stringify(SESSION_OBJECT);

/** A session id as express-session makes them (uid-safe: 24 random bytes, 32 base64url characters). */
export function expressSessionId(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * The payload as express-session hands it to connect-redis: with the cookie it
 * always adds (7 days, httpOnly, secure, SameSite=Lax), serialised by its toJSON.
 */
export function expressSession(): object {
  const cookie = new Cookie();
  Object.assign(cookie, { maxAge: 7 * 86_400_000, httpOnly: true, secure: true, sameSite: "lax" });
  return { cookie, ...SESSION_OBJECT };
}

export const USER_INFO = { displayName: "Ada Lovelace", plan: "pro" };

/** The payload as session-core stores it, created two hours ago, expiring `expiresInMs` from `now` (negative: expired). */
export function storedRecord(now: number, expiresInMs: number): string {
  return encodeRecord(
    {
      createdAt: now - 7_200_000,
      lastSeenAt: now - 3_600_000,
      expiresAt: now + expiresInMs,
      absoluteExpiresAt: now + Math.max(expiresInMs, 86_400_000),
    },
    DATA,
    DEVICE,
  );
}
