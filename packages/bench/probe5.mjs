import { startRedisServer } from "@multisession/redis-server";
import { encodeRecord, SessionStore, sessionKeyOf, userKey } from "@multisession/session-core";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { closedLoop } from "./dist/harness.js";
import { DATA, DEVICE, SESSION_JSON } from "./dist/payload.js";

const server = await startRedisServer();
const redis = new Redis(server.url, { enableAutoPipelining: true });
const queue = new Queue("session-cleanup", { connection: new Redis(server.url, { maxRetriesPerRequest: null }) });
const store = new SessionStore({ redis, queue });
const now = Date.now();
const rec = encodeRecord(
  { createdAt: now, lastSeenAt: now, expiresAt: now + 86400000, absoluteExpiresAt: now + 86400000 * 30 },
  DATA,
  DEVICE,
);
const secrets = [];
const p = redis.pipeline();
for (let i = 0; i < 40000; i++) {
  const s = `sec${i}`.padEnd(43, "Q");
  secrets.push(s);
  p.hset(userKey("", `u${i >> 1}`), sessionKeyOf(s), rec);
  p.hset(`raw:{u${i >> 1}}`, `s${i}`, SESSION_JSON);
}
await p.exec();
const mode = process.argv[2];
const ops = {
  raw: async (i) => JSON.parse(await redis.hget(`raw:{u${((i * 7919) % 40000) >> 1}}`, `s${(i * 7919) % 40000}`)),
  get: (i) => store.get(`u${((i * 7919) % 40000) >> 1}`, secrets[(i * 7919) % 40000]),
};
for (const name of mode ? [mode] : ["raw", "get", "raw", "get"]) {
  const r = await closedLoop(ops[name], { concurrency: 256, durationMs: 3000 });
  console.log(name, Math.round(r.opsPerSec));
}
await server.stop();
process.exit(0);
