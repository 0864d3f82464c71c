/**
 * The request-level session logic both plugins share, over plain request
 * facts: who is calling (`resolve`), logging in, logging out and rotating.
 * A plugin turns its framework's request into `RequestFacts`, keeps the
 * `RequestSession` on the request, and writes the `Set-Cookie` values it is
 * handed; it decides nothing about sessions itself.
 *
 * Refusals are not thrown by `resolve`: a request without a live session is
 * anonymous, with the reason kept in `refusal` for `requireSession` to
 * answer (401 with session-core's code, or 403 for a cross-origin cookie
 * write), so public routes still serve it. Failures of the store itself
 * (503) are thrown: a caller with a token must not be served as anonymous
 * because Redis is down.
 */
import {
  type AnySessionStore,
  type CreateSessionInput,
  ERROR_CODES,
  httpStatusOf,
  parseToken,
  SessionError,
} from "@multisession/session-core";
import { type SessionCookie, sessionCookie } from "./cookie.js";
import { isSafeMethod, type OriginFacts, originAllowed } from "./csrf.js";
import { deviceOf } from "./device-name.js";
import type { Caller } from "./devices.js";
import { HTTP_ERROR_CODES, SessionHttpError } from "./errors.js";
import { type ResolvedHttpOptions, resolveHttpOptions, type SessionHttpOptions } from "./options.js";
import type { SessionData, SessionUserInfo, TypedCreatedSession, TypedSession } from "./session-types.js";
import { readToken, type TokenSource } from "./token.js";

/** What the HTTP layer reads of a request, whatever the framework. */
export interface RequestFacts extends OriginFacts {
  authorization: string | undefined;
  cookie: string | undefined;
  userAgent: string | undefined;
  ip: string | undefined;
}

/** A request's session as the plugins keep it. */
export interface RequestSession {
  /** The caller's session; null when anonymous. */
  session: TypedSession | null;
  /** The caller's secret: for session-core calls that take a sessionId. Never send it back. */
  sessionId: string | null;
  /** Where the token came from; null when the request sent none. */
  via: TokenSource | null;
  /** Why there is no session (no token, expired, cross-origin write...); null with a session. */
  refusal: SessionHttpError | null;
  /** A `Set-Cookie` value to send with the answer (the cookie's session is gone: clear it); null for none. */
  setCookie: string | null;
}

/** What a login takes beyond the user id: session-core's create input, and the name the user gave the device. */
export interface LogInOptions extends Omit<CreateSessionInput<SessionData, SessionUserInfo>, "device"> {
  /** The device's name as the user typed it; when blank, one is made from the user agent ("Chrome 131 on macOS"). */
  deviceName?: string;
}

export interface LoggedIn extends TypedCreatedSession {
  /** The `Set-Cookie` value that stores the new token. */
  setCookie: string;
}

export const NO_SESSION_MESSAGE = "no session: send Authorization: Bearer <token> or log in";
/** The refusal of a request that carries no token: one instance, not one per anonymous request. */
const NO_SESSION = new SessionHttpError(401, ERROR_CODES.SESSION_NOT_FOUND, NO_SESSION_MESSAGE);

export class SessionHttp {
  readonly store: AnySessionStore;
  readonly cookie: SessionCookie;
  readonly #options: ResolvedHttpOptions;

  constructor(options: SessionHttpOptions) {
    this.#options = resolveHttpOptions(options);
    this.store = this.#options.store;
    this.cookie = sessionCookie({
      name: this.#options.cookieName,
      secure: this.#options.production,
      maxAgeSeconds: this.store.settings.absoluteTimeoutMs / 1000,
    });
  }

  /** Who is calling. Throws only when the store fails (a SessionError answering 5xx). */
  async resolve(request: RequestFacts): Promise<RequestSession> {
    const found = readToken(request, this.cookie);
    if (found === null) return anonymous(null, NO_SESSION);
    if (found.via === "cookie" && !isSafeMethod(request.method) && !this.originAllowed(request)) {
      return anonymous("cookie", forbiddenOrigin("cookie-authenticated writes"));
    }
    try {
      // The token decoded once: its user and secret are what authenticate would read from it.
      const { userId, sessionId } = parseToken(found.token);
      const session = (await this.store.get(userId, sessionId)) as TypedSession;
      return { session, sessionId, via: found.via, refusal: null, setCookie: null };
    } catch (error) {
      // What httpStatusOf calls the caller's fault (unknown, expired, malformed) refuses the request with a
      // 401, a malformed token included; a store failure (5xx) is thrown.
      if (!(error instanceof SessionError) || httpStatusOf(error) >= 500) throw error;
      const refusal = new SessionHttpError(401, error.code, error.message);
      const state = anonymous(found.via, refusal);
      if (found.via === "cookie") state.setCookie = this.cookie.clearing();
      return state;
    }
  }

  /** True when the request's stated origin may send cookie-authenticated writes and logins. */
  originAllowed(request: OriginFacts): boolean {
    return originAllowed(request, this.#options.allowedOrigins);
  }

  /**
   * Creates a session for `userId` with the request's device and hands back
   * its token and the cookie that stores it. Refuses a login from another
   * origin (403, ERR_FORBIDDEN_ORIGIN) before creating anything.
   */
  async logIn(request: RequestFacts, userId: string, options: LogInOptions = {}): Promise<LoggedIn> {
    if (!this.originAllowed(request)) throw forbiddenOrigin("logins");
    const { deviceName, ...input } = options;
    const device = deviceOf({ userAgent: request.userAgent, ip: request.ip, name: deviceName });
    const created = (await this.store.create(userId, { ...input, device })) as TypedCreatedSession;
    return { ...created, setCookie: this.cookie.serialize(created.token) };
  }

  /**
   * Logs the caller's session out. Answers whether it was still there, and
   * the cookie-clearing `Set-Cookie` value, sent whatever the token's source
   * (a browser that logs out must keep no cookie). Without a session it
   * removes nothing.
   */
  async logOut(state: RequestSession): Promise<{ removed: boolean; setCookie: string }> {
    const caller = callerOf(state);
    const removed = caller ? await this.store.remove(caller.userId, caller.sessionId) : false;
    return { removed, setCookie: this.cookie.clearing() };
  }

  /**
   * A new secret for the caller's session (after a privilege change: the
   * session-fixation defence). The cookie is replaced when the cookie carried
   * it; a bearer caller keeps the new token itself.
   */
  async rotate(state: RequestSession): Promise<TypedCreatedSession & { setCookie: string | null }> {
    const caller = requireCaller(state);
    const rotated = (await this.store.rotate(caller.userId, caller.sessionId)) as TypedCreatedSession;
    return { ...rotated, setCookie: state.via === "cookie" ? this.cookie.serialize(rotated.token) : null };
  }
}

/** The caller of a request with a session, for the devices API; null when anonymous. */
export function callerOf(state: RequestSession): Caller | null {
  if (state.session === null || state.sessionId === null) return null;
  return { userId: state.session.userId, sessionId: state.sessionId, handle: state.session.handle };
}

/** The caller, or the request's refusal thrown (401 or 403). */
export function requireCaller(state: RequestSession): Caller {
  const caller = callerOf(state);
  if (caller) return caller;
  throw state.refusal ?? NO_SESSION;
}

function anonymous(via: TokenSource | null, refusal: SessionHttpError): RequestSession {
  return { session: null, sessionId: null, via, refusal, setCookie: null };
}

function forbiddenOrigin(what: string): SessionHttpError {
  return new SessionHttpError(403, HTTP_ERROR_CODES.FORBIDDEN_ORIGIN, `${what} must come from this site`);
}
