/**
 * What the API shows of a session: never a secret, `current` on the caller's
 * own, and the browser and OS names read from the device's stored user agent.
 */
import type { Session } from "@multisession/session-core";
import { namesOf } from "../user-agent.js";

export function sessionView(session: Session, currentHandle: string) {
  const { browser, os } = namesOf(session.device.userAgent);
  return {
    handle: session.handle,
    device: session.device,
    browser,
    os,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
    current: session.handle === currentHandle,
  };
}
