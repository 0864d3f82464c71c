/**
 * Who is calling: the bearer token from `Authorization: Bearer <token>` or,
 * for browsers, the httpOnly session cookie. Every failure (missing,
 * malformed, unknown, revoked, expired) answers 401 with session-core's error
 * code; an expired session's deletion job is enqueued by session-core itself.
 * Cookie-authenticated writes must come from this origin (CSRF defence on top
 * of SameSite=Lax). Refused tokens count against the caller's address (see
 * throttle.ts); the limit is read alongside the token check, so a valid token
 * costs no extra round trip.
 */
import { ERROR_CODES, parseToken, type Session, SessionError, type SessionStore } from "@multisession/session-core";
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { API_ERROR_CODES, ApiError } from "./errors.js";
import type { SessionCookie } from "./session-cookie.js";
import type { Throttle } from "./throttle.js";

/** What every authenticated route needs: the store, the cookie in force and the throttle. */
export interface SessionAuth {
  store: SessionStore;
  cookie: SessionCookie;
  throttle: Throttle;
}

export interface CallerSession {
  session: Session;
  userId: string;
  /** The secret part of the token, for session-core calls that take a sessionId. */
  sessionId: string;
}

declare module "fastify" {
  interface FastifyRequest {
    caller: CallerSession;
  }
}

const UNAUTHENTICATED = new Set<string>([
  ERROR_CODES.SESSION_NOT_FOUND,
  ERROR_CODES.SESSION_EXPIRED,
  ERROR_CODES.INVALID_INPUT,
]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function requireSession({ store, cookie, throttle }: SessionAuth): preHandlerAsyncHookHandler {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization;
    const bearer = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    const token = bearer ?? cookie.read(request);
    const viaCookie = bearer === undefined;
    if (!token) {
      throw new ApiError(
        401,
        ERROR_CODES.SESSION_NOT_FOUND,
        "no session: send Authorization: Bearer <token> or log in",
      );
    }
    if (viaCookie && !SAFE_METHODS.has(request.method) && !sameOrigin(request)) {
      throw new ApiError(403, API_ERROR_CODES.FORBIDDEN_ORIGIN, "cookie-authenticated writes must come from this site");
    }
    const [limit, outcome] = await Promise.allSettled([throttle.admitToken(request, reply), store.authenticate(token)]);
    if (limit.status === "rejected") throw limit.reason;
    if (outcome.status === "fulfilled") {
      const session = outcome.value;
      request.caller = { session, userId: session.userId, sessionId: parseToken(token).sessionId };
      return;
    }
    const error = outcome.reason;
    if (error instanceof SessionError && UNAUTHENTICATED.has(error.code)) {
      await throttle.tokenFailed(request);
      if (viaCookie) cookie.clear(reply);
      throw new ApiError(401, error.code, error.message);
    }
    throw error;
  };
}

function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return true; // not a cross-site browser request (browsers send Origin on cross-site POSTs)
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
