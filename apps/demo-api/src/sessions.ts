/**
 * The demo's sessions are @multisession/fastify's: the token from
 * `Authorization: Bearer` or the cookie, the cookie's flags, the CSRF origin
 * check, logging in, out and rotating, and the devices API. The demo adds
 * one thing around the plugin's token check: refused tokens count against
 * the caller's address (throttle.ts). The limit is read alongside the
 * check, started by a hook that runs before the plugin's and awaited by one
 * that runs after it, so a valid token costs no extra round trip; a refusal
 * (401) is counted there. A route that takes no token (the login) opts out
 * with `config: { tokenThrottle: false }`.
 */
import multisession, { sessionStateOf } from "@multisession/fastify";
import type { SessionStore } from "@multisession/session-core";
import { readToken } from "@multisession/session-http";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Throttle } from "./throttle.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** False for a route whose token, if any, is not checked against the token-guessing limit. */
    tokenThrottle?: boolean;
  }
}

export interface SessionsOptions {
  store: SessionStore;
  /** Secure cookies, named `__Host-ms_session` (serve over HTTPS); else `ms_session`. */
  secureCookies: boolean;
  throttle: Throttle;
}

/** Registers the plugin in `app`'s scope, with the token throttle around its check. */
export async function registerSessions(app: FastifyInstance, options: SessionsOptions): Promise<void> {
  const { throttle } = options;
  // Each request's limit check, settled (to an error or null) so that a refusal waits without being unhandled.
  const admissions = new WeakMap<FastifyRequest, Promise<unknown>>();
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.config.tokenThrottle === false) return;
    if (!readToken(request.headers, app.multisession.cookie)) return;
    admissions.set(
      request,
      throttle.admitToken(request, reply).then(
        () => null,
        (error: unknown) => error,
      ),
    );
  });
  // The demo's error handler answers session errors through the plugin's sendSessionError (errors.ts).
  await app.register(multisession, { store: options.store, production: options.secureCookies, errorHandler: false });
  app.addHook("onRequest", async (request) => {
    const admission = admissions.get(request);
    if (!admission) return;
    const refused = await admission;
    if (refused) throw refused;
    if (sessionStateOf(request).refusal?.statusCode === 401) await throttle.tokenFailed(request);
  });
}
