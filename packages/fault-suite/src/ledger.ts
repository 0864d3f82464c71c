/**
 * What the clients were told: every session whose creation was acknowledged,
 * and every acknowledged removal. After a scenario the invariants compare it
 * with what Redis holds.
 *
 * A session is `live` once its create was acknowledged, `removed` once a
 * remove, revoke or removeAll covering it was acknowledged, and `unknown`
 * once a removal covering it failed (it may or may not have happened):
 * unknown sessions are checked for neither. A create that failed leaves no
 * entry (the caller never learnt its key), but may have stored a session:
 * the clients count those against the user's limit so that no acknowledged
 * session is ever evicted by the limit, which would look like a loss.
 *
 * Clients must serialise the calls for one user (one connection, one call at
 * a time per user) so that "acknowledged before" means "ran before".
 */

export type SessionState = "live" | "removed" | "unknown";

export interface TrackedSession {
  userId: string;
  /** The hash field: sessionKeyOf(secret). Never the secret. */
  sessionKey: string;
  /** The expiry the create acknowledged, ms since the epoch on Redis's clock; reads only ever extend it. */
  expiresAt: number;
  state: SessionState;
}

export class Ledger {
  readonly #sessions = new Map<string, TrackedSession>();
  readonly #byUser = new Map<string, TrackedSession[]>();
  /** Acknowledged removals, each counted once per session it covered. */
  #acknowledgedRemovals = 0;

  created(userId: string, sessionKey: string, expiresAt: number): void {
    const session: TrackedSession = { userId, sessionKey, expiresAt, state: "live" };
    this.#sessions.set(`${userId}\n${sessionKey}`, session);
    const list = this.#byUser.get(userId);
    if (list) list.push(session);
    else this.#byUser.set(userId, [session]);
  }

  /** A remove or revoke of this session was acknowledged (whatever it answered, the session is gone now). */
  removed(userId: string, sessionKey: string): void {
    const session = this.#sessions.get(`${userId}\n${sessionKey}`);
    if (session && session.state !== "removed") {
      session.state = "removed";
      this.#acknowledgedRemovals++;
    }
  }

  /** A removeAll of the user was acknowledged: every session created before it is gone. */
  removedAll(userId: string): void {
    for (const session of this.#byUser.get(userId) ?? []) this.removed(userId, session.sessionKey);
  }

  /** A removal of this session failed: it may or may not have happened. */
  uncertain(userId: string, sessionKey: string): void {
    const session = this.#sessions.get(`${userId}\n${sessionKey}`);
    if (session?.state === "live") session.state = "unknown";
  }

  uncertainAll(userId: string): void {
    for (const session of this.#byUser.get(userId) ?? []) this.uncertain(userId, session.sessionKey);
  }

  /** The user's sessions still acknowledged live. */
  liveOf(userId: string): TrackedSession[] {
    return (this.#byUser.get(userId) ?? []).filter((session) => session.state === "live");
  }

  sessions(): IterableIterator<TrackedSession> {
    return this.#sessions.values();
  }

  users(): IterableIterator<string> {
    return this.#byUser.keys();
  }

  get acknowledgedCreates(): number {
    return this.#sessions.size;
  }

  get acknowledgedRemovals(): number {
    return this.#acknowledgedRemovals;
  }
}
