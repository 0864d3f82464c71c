/**
 * A Fastify server on multisession: log in, one protected route, and the
 * whole "Your devices" API. Run it with a Redis of your own:
 *
 *     REDIS_URL=redis://localhost:6379 node dist/server.js
 *
 * The password check stands in for your user database. SIGTERM closes the
 * server (in-flight requests finish), then the queue, then Redis.
 */
import multisession, { deviceRoutes, requireSession } from "@multisession/fastify";
import { CLEANUP_QUEUE_NAME, SessionStore } from "@multisession/session-core";
import { Queue } from "bullmq";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { Redis } from "ioredis";
import { pino } from "pino";
import { passwordMatches } from "./password.js";

const logger = pino({ name: "example-fastify" });
if (!process.env.REDIS_URL) throw new Error("set REDIS_URL, e.g. redis://localhost:6379");
const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: redis, prefix: process.env.QUEUE_PREFIX ?? "bull" });
const store = new SessionStore({ redis, queue, logger, prefix: process.env.SESSION_PREFIX ?? "" });
const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });

// The glue: sessions, a login, a protected route and the devices API.
await app.register(multisession, { store });
app.post<{ Body: { userId: string; password: string } }>("/login", async (request, reply) => {
  if (!passwordMatches(request.body?.password)) {
    return reply.code(401).send({ error: { code: "ERR_BAD_CREDENTIALS", message: "wrong user id or password" } });
  }
  const { token } = await reply.logIn(request.body.userId);
  return { token };
});
app.get("/me", { preHandler: requireSession }, async (request) => ({ userId: request.session?.userId }));
await app.register(deviceRoutes, { prefix: "/account" });

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? "127.0.0.1" });
logger.info({ port: (app.server.address() as { port: number }).port }, "example started");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, async () => {
    await app.close();
    await queue.close();
    await redis.quit();
    logger.info("example stopped");
  });
}
