/**
 * A short, runnable tour of session-core: one user logs in on three devices,
 * lists them, shares user info, signs one device out from another, watches a
 * session expire, and logs out everywhere. Run with `pnpm start` at the root.
 *
 * Redis: REDIS_URL if set; else 127.0.0.1:6379 if it answers; else a private
 * redis-server keeping its data under .data/ at the repository root.
 */
import { fileURLToPath } from "node:url";
import { resolveRedis } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import {
  CLEANUP_QUEUE_NAME,
  SESSION_CONNECTION_OPTIONS,
  type Session,
  SessionExpiredError,
  SessionNotFoundError,
  SessionStore,
} from "../src/index.js";

const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  ...(process.env.NODE_ENV === "production" ? {} : { transport: { target: "pino-pretty" } }),
});

const dataDir = fileURLToPath(new URL("../../../.data", import.meta.url));
const found = await resolveRedis({ dataDir }).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
logger.info({ redis: found.url, source: found.source }, "using Redis");

// The caller owns the connections: one for session data, one for BullMQ.
const redis = new Redis(found.url, { ...SESSION_CONNECTION_OPTIONS });
const queueConnection = new Redis(found.url, { maxRetriesPerRequest: null });
const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection });
const store = new SessionStore({
  redis,
  queue,
  logger,
  prefix: "multisession-tour:",
  idleTimeoutMs: 60 * 60_000,
  touchIntervalMs: 0,
});

const show = (title: string, sessions: Session[]) =>
  console.log(
    `\n${title}\n${sessions.map((s) => `  ${s.handle}  ${s.device.name?.padEnd(18)} ${new Date(s.lastSeenAt).toISOString()}`).join("\n")}`,
  );

try {
  const user = `tour-${Date.now()}`;
  const phone = await store.create(user, { device: { name: "Pixel 9", platform: "android" } });
  const tablet = await store.create(user, { device: { name: "iPad", platform: "ios" } });
  const laptop = await store.create(user, { device: { name: "Firefox on Linux", platform: "web" } });
  show(`${user} is logged in on three devices:`, await store.list(user));

  await store.setUserInfo(user, phone.sessionId, { displayName: "Ada", plan: "pro" });
  const seenByLaptop = await store.authenticate(laptop.token);
  console.log("\nThe phone changed the user info; the laptop sees:", seenByLaptop.userInfo);

  await store.revoke(user, tablet.session.handle);
  await store.get(user, tablet.sessionId).catch((error: unknown) => {
    if (error instanceof SessionNotFoundError)
      console.log(`\nThe tablet was signed out from the laptop: ${error.code}`);
    else throw error;
  });
  show("Devices now:", await store.list(user));

  const shortLived = new SessionStore({
    redis,
    queue,
    logger,
    prefix: "multisession-tour:",
    idleTimeoutMs: 300,
    touchIntervalMs: 0,
  });
  const kiosk = await shortLived.create(user, { device: { name: "Kiosk" } });
  await new Promise((resolve) => setTimeout(resolve, 400));
  await shortLived.get(user, kiosk.sessionId).catch((error: unknown) => {
    if (error instanceof SessionExpiredError)
      console.log(`\nA kiosk session idle for 400 ms: ${error.code}; its deletion job is queued`);
    else throw error;
  });

  const removed = await store.removeAll(user);
  console.log(
    `\nLog out everywhere removed ${removed} sessions; the list is now ${JSON.stringify(await store.list(user))}`,
  );
  console.log("\nTour done. The worker (apps/worker; `pnpm start` runs it) processes the queued deletion jobs.");
} finally {
  await queue.close();
  await queueConnection.quit();
  await redis.quit();
  await found.stop();
}
