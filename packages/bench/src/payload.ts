/**
 * The one session every system stores: a device (name, platform, user agent,
 * ip) and a few data fields, about 300 bytes of JSON.
 */
import { type Device, encodeRecord, type JsonValue } from "@multisession/session-core";

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
