/**
 * The demo API: a fastify app on session-core's public API. Built by a
 * factory so tests can inject requests without a port; main.ts wires it.
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

export interface ServerOptions {
  store: SessionStore;
  logger: Logger;
  demoPassword: string;
  secureCookies: boolean;
}

export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: "http" }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: (request) => request.url === "/healthz" }),
    trustProxy: false,
    bodyLimit: 64 * 1024,
    // Bad bodies are refused, never quietly fixed: no type coercion, no dropping of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  installErrorHandler(app);
  await app.register(cookie);

  app.get("/healthz", async () => ({ status: "ok" }));
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
