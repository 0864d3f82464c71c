/**
 * `app.register(multisession, { store })`: every request gets
 * `request.session` (the caller's session, null when anonymous) from
 * `Authorization: Bearer <token>` or the session cookie; replies get
 * `logIn`, `logOut` and `rotateSession`, which write the cookie. The
 * session logic itself (token source, cookie, CSRF rule, device names) is
 * @multisession/session-http's; this file only adapts it to Fastify.
 *
 * Built with fastify-plugin, so the decorations and the hook reach the
 * routes of the scope that registered it. The session is resolved in an
 * `onRequest` hook, one store read per request that carries a token.
 */
import { InvalidOptionError } from "@multisession/session-core";
import {
  type LogInOptions,
  type RequestFacts,
  type RequestSession,
  replaceSetCookie,
  requireCaller,
  SessionHttp,
  type SessionHttpOptions,
  sessionErrorAnswer,
  type TypedCreatedSession,
  type TypedSession,
} from "@multisession/session-http";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

export interface MultisessionOptions extends SessionHttpOptions {
  /**
   * Answer session errors (session-core's and this plugin's) with
   * `httpStatusOf(error)` and `{ error: { code, message } }`, passing any
   * other error on to the handler before it. Turn it off when you set your
   * own error handler; `sendSessionError` answers the same way.
   * @default true
   */
  errorHandler?: boolean;
}

/** Each request's resolved session; read through `sessionStateOf`. */
const states = new WeakMap<FastifyRequest, RequestSession>();

declare module "fastify" {
  interface FastifyRequest {
    /** The caller's session; null when the request carries no live session. */
    session: TypedSession | null;
    /** The caller's secret, for session-core calls that take a sessionId; null when anonymous. Never send it back. */
    sessionId: string | null;
  }
  interface FastifyReply {
    /**
     * Logs `userId` in on this request's device: creates the session (device
     * named from the user agent unless `deviceName` is given), sets the cookie
     * and returns the token for API clients. Refuses a login from another
     * origin (SessionHttpError 403 ERR_FORBIDDEN_ORIGIN).
     */
    logIn(userId: string, options?: LogInOptions): Promise<TypedCreatedSession>;
    /** Logs the caller's session out and clears the cookie; resolves to whether a session was removed. */
    logOut(): Promise<boolean>;
    /** Gives the caller's session a new secret (the cookie too, if it carried it); 401 without a session. */
    rotateSession(): Promise<TypedCreatedSession>;
  }
  interface FastifyInstance {
    /** The HTTP session layer in force: its store and cookie settings, for routes of your own. */
    multisession: SessionHttp;
  }
}

/** What session-http reads of a Fastify request. */
export function requestFacts(request: FastifyRequest): RequestFacts {
  const { headers } = request;
  return {
    method: request.method,
    protocol: request.protocol,
    host: request.host,
    authorization: headers.authorization,
    cookie: headers.cookie,
    origin: headers.origin,
    referer: headers.referer,
    userAgent: headers["user-agent"],
    ip: request.ip,
  };
}

/** The request's resolved session; throws when the plugin is not registered in this scope. */
export function sessionStateOf(request: FastifyRequest): RequestSession {
  const state = states.get(request);
  if (!state) throw new Error("@multisession/fastify is not registered in this route's scope");
  return state;
}

/** Answers a session error as the plugin does; false (nothing sent) for any other error. */
export function sendSessionError(error: unknown, request: FastifyRequest, reply: FastifyReply): boolean {
  const answer = sessionErrorAnswer(error);
  if (!answer) return false;
  if (answer.log) request.log.error({ err: error }, "session store failed");
  void reply.code(answer.status).send(answer.body);
  return true;
}

/** Sets the session cookie (or its clearing) on the reply, in place of any earlier value for it. */
export function writeSessionCookie(reply: FastifyReply, setCookie: string): void {
  const values = replaceSetCookie(reply.getHeader("set-cookie"), setCookie);
  reply.removeHeader("set-cookie");
  reply.header("set-cookie", values);
}

function setState(request: FastifyRequest, state: RequestSession): void {
  states.set(request, state);
  request.session = state.session;
  request.sessionId = state.sessionId;
}

async function multisessionPlugin(app: FastifyInstance, options: MultisessionOptions): Promise<void> {
  const http = new SessionHttp(options);
  const errorHandler = options.errorHandler ?? true;
  if (typeof errorHandler !== "boolean") throw new InvalidOptionError("errorHandler", "a boolean", errorHandler);
  app.decorate("multisession", http);
  app.decorateRequest("session", null);
  app.decorateRequest("sessionId", null);

  app.decorateReply("logIn", async function logIn(this: FastifyReply, userId: string, login?: LogInOptions) {
    const { setCookie, ...created } = await http.logIn(requestFacts(this.request), userId, login);
    writeSessionCookie(this, setCookie);
    setState(this.request, {
      session: created.session,
      sessionId: created.sessionId,
      via: "cookie",
      refusal: null,
      setCookie: null,
    });
    return created;
  });

  app.decorateReply("logOut", async function logOut(this: FastifyReply) {
    const state = sessionStateOf(this.request);
    const { removed, setCookie } = await http.logOut(state);
    writeSessionCookie(this, setCookie);
    setState(this.request, { ...state, session: null, sessionId: null });
    return removed;
  });

  app.decorateReply("rotateSession", async function rotateSession(this: FastifyReply) {
    const state = sessionStateOf(this.request);
    requireCaller(state);
    const { setCookie, ...rotated } = await http.rotate(state);
    if (setCookie) writeSessionCookie(this, setCookie);
    setState(this.request, { ...state, session: rotated.session, sessionId: rotated.sessionId });
    return rotated;
  });

  app.addHook("onRequest", async (request, reply) => {
    const state = await http.resolve(requestFacts(request));
    setState(request, state);
    if (state.setCookie) writeSessionCookie(reply, state.setCookie);
  });

  if (errorHandler) {
    // An error this handler does not answer is thrown on to the handler before it (Fastify's default, or yours).
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (!sendSessionError(error, request, reply)) throw error;
    });
  }
}

/** The plugin. `app.register(multisession, { store })`. */
export const multisession = fp(multisessionPlugin, { name: "@multisession/fastify", fastify: "5.x" });
