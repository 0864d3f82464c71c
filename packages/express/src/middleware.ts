/**
 * `app.use(multisession({ store }))`: every request gets `req.session` (the
 * caller's session, null when anonymous) from `Authorization: Bearer
 * <token>` or the session cookie; every response gets `res.logIn`,
 * `res.logOut` and `res.rotateSession`, which write the cookie. The session
 * logic itself (token source, cookie, CSRF rule, device names) is
 * @multisession/session-http's; this file only adapts it to Express 5.
 * `req.session` and the response helpers are typed by declaration merging.
 */
import {
  type LogInOptions,
  type RequestFacts,
  type RequestSession,
  replaceSetCookie,
  requireCaller,
  SessionHttp,
  type SessionHttpOptions,
  type TypedCreatedSession,
  type TypedSession,
} from "@multisession/session-http";
import type { NextFunction, Request, RequestHandler, Response } from "express";

declare global {
  namespace Express {
    interface Request {
      /** The caller's session; null when the request carries no live session. */
      session: TypedSession | null;
      /** The caller's secret, for session-core calls that take a sessionId; null when anonymous. Never send it back. */
      sessionId: string | null;
    }
    interface Response {
      /**
       * Logs `userId` in on this request's device: creates the session (device
       * named from the user agent unless `deviceName` is given), sets the cookie
       * and resolves to the token for API clients. Refuses a login from another
       * origin (SessionHttpError 403 ERR_FORBIDDEN_ORIGIN).
       */
      logIn(userId: string, options?: LogInOptions): Promise<TypedCreatedSession>;
      /** Logs the caller's session out and clears the cookie; resolves to whether a session was removed. */
      logOut(): Promise<boolean>;
      /** Gives the caller's session a new secret (the cookie too, if it carried it); 401 without a session. */
      rotateSession(): Promise<TypedCreatedSession>;
    }
  }
}

/** The middleware, with the HTTP session layer it uses (its store and cookie settings). */
export interface MultisessionMiddleware extends RequestHandler {
  readonly http: SessionHttp;
}

/** A request's session as the middleware resolved it, and the HTTP layer it used. */
export interface ResolvedSession {
  http: SessionHttp;
  state: RequestSession;
}

/** Each request's resolved session; read through `sessionStateOf`. */
const resolved = new WeakMap<Request, ResolvedSession>();

/** What session-http reads of an Express request (`trust proxy` decides protocol, host and ip). */
export function requestFacts(req: Request): RequestFacts {
  const { headers } = req;
  return {
    method: req.method,
    protocol: req.protocol,
    host: req.host,
    authorization: headers.authorization,
    cookie: headers.cookie,
    origin: headers.origin,
    referer: headers.referer,
    userAgent: headers["user-agent"],
    ip: req.ip,
  };
}

/** The request's resolved session and the layer that resolved it; throws when the middleware did not run. */
export function sessionStateOf(req: Request): ResolvedSession {
  const found = resolved.get(req);
  if (!found) throw new Error("@multisession/express: app.use(multisession({ store })) must run before this route");
  return found;
}

/** Sets the session cookie (or its clearing) on the response, in place of any earlier value for it. */
export function writeSessionCookie(res: Response, setCookie: string): void {
  res.setHeader("Set-Cookie", replaceSetCookie(res.getHeader("Set-Cookie"), setCookie));
}

function setState(req: Request, http: SessionHttp, state: RequestSession): void {
  resolved.set(req, { http, state });
  req.session = state.session;
  req.sessionId = state.sessionId;
}

export function multisession(options: SessionHttpOptions): MultisessionMiddleware {
  const http = new SessionHttp(options);
  const middleware = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let state: RequestSession;
    try {
      state = await http.resolve(requestFacts(req));
    } catch (error) {
      next(error);
      return;
    }
    setState(req, http, state);
    if (state.setCookie) writeSessionCookie(res, state.setCookie);
    res.logIn = async (userId, login) => {
      const { setCookie, ...created } = await http.logIn(requestFacts(req), userId, login);
      writeSessionCookie(res, setCookie);
      const { session, sessionId } = created;
      setState(req, http, { session, sessionId, via: "cookie", refusal: null, setCookie: null });
      return created;
    };
    res.logOut = async () => {
      const current = sessionStateOf(req).state;
      const { removed, setCookie } = await http.logOut(current);
      writeSessionCookie(res, setCookie);
      setState(req, http, { ...current, session: null, sessionId: null });
      return removed;
    };
    res.rotateSession = async () => {
      const current = sessionStateOf(req).state;
      requireCaller(current);
      const { setCookie, ...rotated } = await http.rotate(current);
      if (setCookie) writeSessionCookie(res, setCookie);
      setState(req, http, { ...current, session: rotated.session, sessionId: rotated.sessionId });
      return rotated;
    };
    next();
  };
  return Object.assign(middleware, { http });
}
