/**
 * Traffic during a scenario: library clients (session-core's SessionStore on
 * one connection with the shipped options, as an API server embedding it
 * would hold) and HTTP clients (the demo API as a child process). Each client
 * loop owns its users and makes one call at a time, so the calls for one
 * user are serialised and the ledger's "acknowledged before" means "ran
 * before". Every call is recorded (figures.ts) and every acknowledgement goes
 * into the ledger.
 *
 * Answers that are wrong on their face are violations at once: a session
 * acknowledged live (and far from its expiry) that reads as not found, a
 * logout of such a session that says it was not there, a failure that is
 * not session-core's typed SessionBackendError (or the API's 503 with its
 * code).
 *
 * Users never reach their session limit (a removeAll comes first), so no
 * acknowledged session is ever evicted.
 */
import {
  type JsonValue,
  parseToken,
  SessionBackendError,
  SessionError,
  SessionNotFoundError,
  type SessionStore,
  sessionKeyOf,
} from "@multisession/session-core";
import type { CallRecord } from "./figures.js";
import type { Violation } from "./invariants.js";
import type { Ledger } from "./ledger.js";
import { sleep } from "./stack.js";

export interface LoadOptions {
  /** Client loops, each with users of its own. */
  loops: number;
  /** Users each loop spreads its calls over. */
  usersPerLoop: number;
  /** Rest between two calls of one loop, so the suite leaves CPU to the processes under test. */
  restMs: number;
  /** The store's (or the API's) maxSessionsPerUser; users stay below it. */
  maxSessionsPerUser: number;
  /** Distinguishes this load's user ids from any other's. */
  userTag: string;
}

export interface Load {
  readonly calls: CallRecord[];
  readonly violations: Violation[];
  /** Stops making calls; resolves once the calls in flight have ended. */
  stop(): Promise<void>;
}

interface HeldSession {
  sessionKey: string;
  /** What the client needs to call with it; kept in memory only. */
  secret: string;
  token: string;
  handle: string;
}

interface UserState {
  userId: string;
  held: HeldSession[];
  /** Sessions that may be stored: acknowledged, or created with an unknown outcome and not since removed. */
  possible: number;
}

type Outcome = { ok: true } | { ok: false; code: string };

/** What one call does with one user: the library's and the API's ways differ only here. */
interface Driver {
  create(user: UserState): Promise<Outcome>;
  authenticate(user: UserState, session: HeldSession): Promise<Outcome>;
  remove(user: UserState, session: HeldSession): Promise<Outcome>;
  revoke(user: UserState, session: HeldSession): Promise<Outcome>;
  removeAll(user: UserState): Promise<Outcome>;
  /** Whether removeAll needs no session of the user's (the library's takes the user id alone). */
  readonly removeAllWithoutSession: boolean;
}

function runLoad(client: CallRecord["client"], driver: Driver, options: LoadOptions): Load {
  const calls: CallRecord[] = [];
  const violations: Violation[] = [];
  let stopping = false;

  const loop = async (index: number) => {
    const users: UserState[] = [];
    let created = 0;
    while (!stopping) {
      let user = users[Math.floor(Math.random() * users.length)];
      if (!user || (users.length < options.usersPerLoop && Math.random() < 0.2)) {
        user = { userId: `${options.userTag}-${client}-${index}-${created++}`, held: [], possible: 0 };
        users.push(user);
      }
      const r = Math.random();
      const session = user.held[Math.floor(Math.random() * user.held.length)];
      let operation: Exclude<keyof Driver, "removeAllWithoutSession">;
      if (!session || r < 0.3) operation = user.possible < options.maxSessionsPerUser - 1 ? "create" : "removeAll";
      else if (r < 0.7) operation = "authenticate";
      else if (r < 0.82) operation = "remove";
      else if (r < 0.94) operation = user.held.length > 1 || client === "library" ? "revoke" : "authenticate";
      else operation = "removeAll";
      if (operation === "removeAll" && user.held.length === 0 && !driver.removeAllWithoutSession) {
        // An API logs out everywhere on behalf of a session: with none held, leave this user be.
        users.splice(users.indexOf(user), 1);
        continue;
      }

      const startedAt = performance.now();
      let outcome: Outcome;
      try {
        outcome =
          operation === "create" || operation === "removeAll"
            ? await driver[operation](user)
            : await driver[operation](user, session as HeldSession);
      } catch (error) {
        // A driver only throws for what no client should ever see.
        outcome = { ok: false, code: "UNTYPED" };
        violations.push({ invariant: "typedErrors", userId: user.userId, detail: String(error) });
      }
      calls.push({ client, operation, startedAt, endedAt: performance.now(), ...outcome });
      if (options.restMs > 0) await sleep(options.restMs);
    }
  };
  const loops = Array.from({ length: options.loops }, (_, index) => loop(index));
  return {
    calls,
    violations,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

function forget(user: UserState, session: HeldSession): void {
  user.held = user.held.filter((held) => held !== session);
}

/** Library clients: one SessionStore, `options.loops` loops calling it. */
export function startLibraryLoad(store: SessionStore, ledger: Ledger, options: LoadOptions): Load {
  let load: Load;
  const lost = (user: UserState, detail: string) =>
    load.violations.push({ invariant: "noAcknowledgedLiveSessionLost", userId: user.userId, detail });
  /** A failure: session-core's typed backend error, or a violation. */
  const failed = (user: UserState, error: unknown): Outcome => {
    if (error instanceof SessionBackendError) return { ok: false, code: error.code };
    load.violations.push({
      invariant: "typedErrors",
      userId: user.userId,
      detail: error instanceof SessionError ? error.code : String(error),
    });
    return { ok: false, code: error instanceof SessionError ? error.code : "UNTYPED" };
  };
  const data: JsonValue = { via: "fault-suite" };

  const driver: Driver = {
    removeAllWithoutSession: true,
    async create(user) {
      user.possible++;
      try {
        const { sessionId, token, session } = await store.create(user.userId, { data, device: { name: "library" } });
        const sessionKey = sessionKeyOf(sessionId);
        ledger.created(user.userId, sessionKey, session.expiresAt);
        user.held.push({ sessionKey, secret: sessionId, token, handle: session.handle });
        return { ok: true };
      } catch (error) {
        return failed(user, error);
      }
    },
    async authenticate(user, session) {
      try {
        await store.authenticate(session.token);
        return { ok: true };
      } catch (error) {
        if (error instanceof SessionNotFoundError) {
          lost(user, "authenticate answered not found");
          forget(user, session);
          return { ok: false, code: error.code };
        }
        return failed(user, error);
      }
    },
    async remove(user, session) {
      forget(user, session);
      try {
        const removed = await store.remove(user.userId, session.secret);
        ledger.removed(user.userId, session.sessionKey);
        user.possible--;
        if (!removed) lost(user, "remove of a live session answered false");
        return { ok: true };
      } catch (error) {
        ledger.uncertain(user.userId, session.sessionKey);
        return failed(user, error);
      }
    },
    async revoke(user, session) {
      forget(user, session);
      try {
        const revoked = await store.revoke(user.userId, session.handle);
        ledger.removed(user.userId, session.sessionKey);
        user.possible--;
        if (!revoked) lost(user, "revoke of a live session answered false");
        return { ok: true };
      } catch (error) {
        ledger.uncertain(user.userId, session.sessionKey);
        return failed(user, error);
      }
    },
    async removeAll(user) {
      const held = user.held.length;
      user.held = [];
      try {
        const removed = await store.removeAll(user.userId);
        ledger.removedAll(user.userId);
        user.possible = 0;
        if (removed < held) lost(user, `removeAll removed ${removed} of ${held} live sessions`);
        return { ok: true };
      } catch (error) {
        ledger.uncertainAll(user.userId);
        return failed(user, error);
      }
    },
  };
  load = runLoad("library", driver, options);
  return load;
}

const REQUEST_TIMEOUT_MS = 15_000;

/** HTTP clients of the demo API at `baseUrl`, `options.loops` loops. */
export function startHttpLoad(baseUrl: string, ledger: Ledger, options: LoadOptions): Load {
  let load: Load;
  const lost = (user: UserState, detail: string) =>
    load.violations.push({ invariant: "noAcknowledgedLiveSessionLost", userId: user.userId, detail });

  async function request(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const code = (json.error as { code?: string } | undefined)?.code;
    return { status: response.status, json, code };
  }

  /** A non-success answer: a 503 with session-core's code is the typed failure; anything else a violation. */
  const failed = (user: UserState, answer: { status: number; code?: string }): Outcome => {
    const code = answer.code ?? `HTTP_${answer.status}`;
    if (answer.status === 503 && /^ERR_SESSION_(BACKEND|OUTCOME_UNKNOWN)$/.test(code)) return { ok: false, code };
    load.violations.push({ invariant: "typedErrors", userId: user.userId, detail: `${answer.status} ${code}` });
    return { ok: false, code };
  };
  const notFound = (answer: { status: number; code?: string }) =>
    answer.status === 401 && answer.code === "ERR_SESSION_NOT_FOUND";

  const driver: Driver = {
    removeAllWithoutSession: false,
    async create(user) {
      user.possible++;
      const answer = await request("POST", "/auth/login", undefined, {
        userId: user.userId,
        password: "demo",
        deviceName: "http",
      });
      if (answer.status !== 200) return failed(user, answer);
      const token = answer.json.token as string;
      const session = answer.json.session as { handle: string; expiresAt: number };
      const secret = parseToken(token).sessionId;
      const sessionKey = sessionKeyOf(secret);
      ledger.created(user.userId, sessionKey, session.expiresAt);
      user.held.push({ sessionKey, secret, token, handle: session.handle });
      return { ok: true };
    },
    async authenticate(user, session) {
      const answer = await request("GET", "/me", session.token);
      if (answer.status === 200) return { ok: true };
      if (notFound(answer)) {
        lost(user, "GET /me answered 401 not found");
        forget(user, session);
        return { ok: false, code: "ERR_SESSION_NOT_FOUND" };
      }
      return failed(user, answer);
    },
    async remove(user, session) {
      forget(user, session);
      const answer = await request("POST", "/auth/logout", session.token);
      if (answer.status === 204) {
        ledger.removed(user.userId, session.sessionKey);
        user.possible--;
        return { ok: true };
      }
      ledger.uncertain(user.userId, session.sessionKey);
      if (notFound(answer)) {
        lost(user, "logout answered 401 not found");
        return { ok: false, code: "ERR_SESSION_NOT_FOUND" };
      }
      return failed(user, answer);
    },
    async revoke(user, session) {
      // Signed out from another of the user's devices.
      const caller = user.held.find((held) => held !== session);
      if (!caller) return this.authenticate(user, session);
      forget(user, session);
      const answer = await request("DELETE", `/sessions/${session.handle}`, caller.token);
      if (answer.status === 204) {
        ledger.removed(user.userId, session.sessionKey);
        user.possible--;
        return { ok: true };
      }
      ledger.uncertain(user.userId, session.sessionKey);
      if (answer.status === 404 || notFound(answer)) {
        lost(user, `revoke answered ${answer.status} ${answer.code}`);
        return { ok: false, code: answer.code ?? "ERR_NOT_FOUND" };
      }
      return failed(user, answer);
    },
    async removeAll(user) {
      const caller = user.held[0] as HeldSession;
      const held = user.held.length;
      user.held = [];
      const answer = await request("POST", "/auth/logout-all", caller.token);
      if (answer.status === 200) {
        ledger.removedAll(user.userId);
        user.possible = 0;
        if ((answer.json.removed as number) < held) lost(user, `logout-all removed ${answer.json.removed} of ${held}`);
        return { ok: true };
      }
      ledger.uncertainAll(user.userId);
      if (notFound(answer)) {
        lost(user, "logout-all answered 401 not found");
        return { ok: false, code: "ERR_SESSION_NOT_FOUND" };
      }
      return failed(user, answer);
    },
  };
  load = runLoad("http", driver, options);
  return load;
}
