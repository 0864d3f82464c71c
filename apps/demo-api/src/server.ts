/**
 * The demo API: a fastify app on @multisession/fastify, which gives it its
 * sessions, its cookie, its CSRF check and the devices functions behind its
 * routes; the demo adds a password check, user info and throttling. Built by a
 * factory so tests can inject requests without a port; main.ts wires it,
 * including what `/readyz` checks (the app's Redis connections). Every
 * answer carries `X-Content-Type-Options: nosniff` and, but for the page's
 * static files, `Cache-Control: no-store`; every error answer,
 * the router's own included, is `{ error: { code, message } }`.
 */
import type { SessionStore } from "@multisession/session-core";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import type { ThrottleConfig } from "./config.js";
import { frameworkErrors, installErrorHandler } from "./errors.js";
import { authRoutes } from "./routes/auth.js";
import { meRoutes } from "./routes/me.js";
import { pageRoutes } from "./routes/page.js";
import { sessionRoutes } from "./routes/sessions.js";
import { registerSessions } from "./sessions.js";
import { createThrottle } from "./throttle.js";

/** The outcome of the readiness checks: ready when every check passed. */
export interface ReadinessCheck {
  ready: boolean;
  checks: Record<string, boolean>;
}

export interface ServerOptions {
  store: SessionStore;
  /** What `GET /readyz` reports: 200 when ready, else 503; each check by name. */
  readiness: () => Promise<ReadinessCheck>;
  logger: Logger;
  demoPassword: string;
  /** Secure cookies, named `__Host-ms_session` (serve over HTTPS); else `ms_session`. */
  secureCookies: boolean;
  /** Where the throttle counts (the session connection and SESSION_PREFIX), and its limits. */
  throttle: { redis: Redis | Cluster; prefix: string; limits: ThrottleConfig };
}

const PROBES = new Set(["/healthz", "/readyz"]);

export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Probes arrive every few seconds: not worth a log line each.
    logController: new LogController({ disableRequestLogging: (request) => PROBES.has(request.url) }),
    trustProxy: false,
    bodyLimit: 64 * 1024,
    // Bad bodies are refused, never quietly fixed: no type coercion, no dropping of unknown fields.
    // String lengths count UTF-16 code units (`unicode: false`), as session-core's limits do.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, unicode: false } },
    frameworkErrors,
  });
  installErrorHandler(app);
  app.addHook("onRequest", async (_, reply) => {
    reply.header("x-content-type-options", "nosniff");
    // Answers carry tokens, sessions and device lists: no cache, shared or private, may keep them.
    reply.header("cache-control", "no-store");
  });
  const throttle = await createThrottle(app, options.throttle);

  // Outside the sessions' scope: the probes and the page's static files never read a session.
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_, reply) => {
    const result = await options.readiness();
    return reply
      .code(result.ready ? 200 : 503)
      .send({ status: result.ready ? "ready" : "not ready", ...result.checks });
  });
  await app.register(pageRoutes);
  await app.register(async (api) => {
    await registerSessions(api, { store: options.store, secureCookies: options.secureCookies, throttle });
    await api.register(authRoutes, { throttle, demoPassword: options.demoPassword });
    await api.register(meRoutes);
    await api.register(sessionRoutes);
  });
  return app;
}
