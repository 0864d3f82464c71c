/** What the API shows of a session: never a secret, and `current` on the caller's own. */
import type { Session } from "@multisession/session-core";

export function sessionView(session: Session, currentHandle: string) {
  return {
    handle: session.handle,
    device: session.device,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
    current: session.handle === currentHandle,
  };
}
