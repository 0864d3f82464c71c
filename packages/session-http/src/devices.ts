/**
 * The "Your devices" API as plain functions over a SessionStore, for both
 * plugins' routes: list the caller's sessions (their own marked `current`,
 * with browser and OS labels), revoke one by its handle, log out every other
 * device, log out everywhere. None of them ever shows a secret.
 */
import type { AnySessionStore, Device, Session } from "@multisession/session-core";
import { describeUserAgent } from "./device-name.js";
import { HTTP_ERROR_CODES, SessionHttpError } from "./errors.js";

/** Who is asking: the caller's own session. */
export interface Caller {
  userId: string;
  /** The secret of the caller's session (never shown; session-core takes it to spare this session). */
  sessionId: string;
  /** The public handle of the caller's session. */
  handle: string;
}

/** One device as the API shows it. */
export interface DeviceView {
  handle: string;
  /** True for the session making the request. */
  current: boolean;
  device: Device;
  /** From the stored user agent, e.g. "Chrome 131"; null when it names none. */
  browser: string | null;
  /** From the stored user agent, e.g. "macOS"; null when it names none. */
  os: string | null;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export function deviceView(session: Session, currentHandle: string): DeviceView {
  const labels = describeUserAgent(session.device.userAgent);
  return {
    handle: session.handle,
    current: session.handle === currentHandle,
    device: session.device,
    browser: labels.browser,
    os: labels.os,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
  };
}

/** The caller's devices, the current one first, then the most recently seen. */
export async function listDevices(store: AnySessionStore, caller: Caller): Promise<DeviceView[]> {
  const sessions = await store.list(caller.userId);
  return sessions
    .map((session) => deviceView(session, caller.handle))
    .sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt);
}

/**
 * Logs out the caller's device `handle`. Answers whether it was the caller's
 * own session (the caller's cookie should then be cleared); throws
 * SessionHttpError (404, ERR_DEVICE_NOT_FOUND) when the caller has no such device.
 */
export async function revokeDevice(
  store: AnySessionStore,
  caller: Caller,
  handle: string,
): Promise<{ current: boolean }> {
  if (!(await store.revoke(caller.userId, handle))) {
    throw new SessionHttpError(404, HTTP_ERROR_CODES.DEVICE_NOT_FOUND, "no such device among yours");
  }
  return { current: handle === caller.handle };
}

/** Logs out every device but the caller's; answers how many were. */
export function logOutOthers(store: AnySessionStore, caller: Caller): Promise<number> {
  return store.removeOthers(caller.userId, caller.sessionId);
}

/** Logs out every device of the caller's, their own included; answers how many were. */
export function logOutEverywhere(store: AnySessionStore, caller: Caller): Promise<number> {
  return store.removeAll(caller.userId);
}

/** The devices API's routes, relative to where a plugin mounts them; both plugins serve exactly these. */
export const DEVICE_ROUTES = Object.freeze({
  list: { method: "GET", path: "/devices" },
  revoke: { method: "DELETE", path: "/devices/:handle" },
  logOutOthers: { method: "POST", path: "/devices/log-out-others" },
  logOutEverywhere: { method: "POST", path: "/devices/log-out-everywhere" },
} as const);
