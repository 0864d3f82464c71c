/**
 * The demo API: a fastify app on session-core's public API. Built by a
 * factory so tests can inject requests without a port; main.ts wires it,
 * including what `/readyz` checks (the app's Redis connections).
 */
import cookie from "@fastify/cookie";
import type { SessionStore } from "@multisession/session-core";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import { installErrorHandler } from "./errors.js";
import { authRoutes } from "./routes/auth.js";
import { meRoutes } from "./routes/me.js";
import { pageRoutes } from "./routes/page.js";
import { sessionRoutes } from "./routes/sessions.js";

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
  secureCookies: boolean;
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
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  installErrorHandler(app);
  await app.register(cookie);

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_, reply) => {
    const result = await options.readiness();
    return reply
      .code(result.ready ? 200 : 503)
      .send({ status: result.ready ? "ready" : "not ready", ...result.checks });
  });
  await app.register(pageRoutes);
  await app.register(authRoutes, {
    store: options.store,
    demoPassword: options.demoPassword,
    secureCookies: options.secureCookies,
  });
  await app.register(meRoutes, { store: options.store });
  await app.register(sessionRoutes, { store: options.store });
  return app;
}
