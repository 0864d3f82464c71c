/**
 * The worker's HTTP face for ops: liveness, readiness, Prometheus metrics,
 * JSON stats and (when credentials are set) the queue dashboard. Built by a
 * factory so tests can use `inject` without a port. A failure answers a
 * plain `{ error: { code, message } }`; what went wrong (Redis's text, a
 * script SHA) goes to the log line of the request, never to the client.
 */
import type { Queue } from "bullmq";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.js";
import { registerDashboard } from "./dashboard.js";

/** The body of every 5xx answer: the kind of failure, nothing of its cause. */
export const INTERNAL_ERROR_BODY = Object.freeze({
  error: Object.freeze({ code: "ERR_INTERNAL", message: "internal error" }),
});

export interface ReadinessCheck {
  ready: boolean;
  checks: Record<string, boolean>;
}

export interface ServerOptions {
  logger: Logger;
  queue: Queue;
  metrics: Metrics;
  readiness: () => Promise<ReadinessCheck>;
  dashboard: { user: string; password: string } | null;
}

export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Probes and scrapes arrive every few seconds: not worth a log line each.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) {
      return reply.code(status).send({ error: { code: error.code ?? "ERR_REQUEST", message: error.message } });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send(INTERNAL_ERROR_BODY);
  });

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_, reply) => {
    const result = await options.readiness();
    return reply
      .code(result.ready ? 200 : 503)
      .send({ status: result.ready ? "ready" : "not ready", ...result.checks });
  });

  app.get("/metrics", async (_, reply) => {
    reply.header("content-type", options.metrics.registry.contentType);
    return options.metrics.prometheus();
  });

  app.get("/stats", async () => options.metrics.stats());

  if (options.dashboard) await registerDashboard(app, options.queue, options.dashboard);
  return app;
}
