/**
 * An Express 5 server on multisession: log in, one protected route, and the
 * whole "Your devices" API. Run it with a Redis of your own:
 *
 *     REDIS_URL=redis://localhost:6379 node dist/server.js
 *
 * The password check stands in for your user database. SIGTERM closes the
 * server (in-flight requests finish), then the queue, then Redis.
 */
import type { AddressInfo } from "node:net";
import { deviceRouter, multisession, requireSession, sessionErrors } from "@multisession/express";
import { CLEANUP_QUEUE_NAME, SessionStore } from "@multisession/session-core";
import { Queue } from "bullmq";
import express from "express";
import { Redis } from "ioredis";
import { pino } from "pino";
import { passwordMatches } from "./password.js";

const logger = pino({ name: "example-express" });
if (!process.env.REDIS_URL) throw new Error("set REDIS_URL, e.g. redis://localhost:6379");
const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: redis, prefix: process.env.QUEUE_PREFIX ?? "bull" });
const store = new SessionStore({ redis, queue, logger, prefix: process.env.SESSION_PREFIX ?? "" });
const app = express();

// The glue: sessions, a login, a protected route and the devices API.
app.use(multisession({ store }));
app.post("/login", express.json(), async (req, res) => {
  if (!passwordMatches(req.body?.password)) {
    res.status(401).json({ error: { code: "ERR_BAD_CREDENTIALS", message: "wrong user id or password" } });
    return;
  }
  const { token } = await res.logIn(req.body.userId);
  res.json({ token });
});
app.get("/me", requireSession, (req, res) => void res.json({ userId: req.session?.userId }));
app.use("/account", deviceRouter());
app.use(sessionErrors({ log: (error) => logger.error({ err: error }, "session store failed") }));

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? "127.0.0.1", () => {
  logger.info({ port: (server.address() as AddressInfo).port }, "example started");
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, async () => {
    await new Promise((resolve) => server.close(resolve));
    await queue.close();
    await redis.quit();
    logger.info("example stopped");
  });
}
