/**
 * The worker's HTTP face for ops: liveness, readiness, Prometheus metrics,
 * JSON stats and (when credentials are set) the queue dashboard. Built by a
 * factory so tests can use `inject` without a port.
 */
import type { Queue } from "bullmq";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.js";
import { registerDashboard } from "./dashboard.js";

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
