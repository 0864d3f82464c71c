/**
 * Timing of authenticate's rejection paths, against a private redis-server:
 * (a) a well-formed token for a user that has no sessions, (b) a known
 * user's id with a wrong secret, (c) a valid token. The three kinds are
 * interleaved in a shuffled order, so drift (GC, CPU frequency, Redis's own
 * work) lands on all of them alike. It reports each kind's median, p90 and
 * p99, and compares (a) with (b): the difference of medians with a bootstrap
 * 95% interval, and a Mann-Whitney U test. An attacker who could tell (a)
 * from (b) could learn which user ids exist.
 *
 *     node packages/attack-suite/dist/timing.js [--samples 20000] [--users 1000]
 *
 * Figures go in docs/security.md, never in code.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { startRedisServer } from "@multisession/redis-server";
import { CLEANUP_QUEUE_NAME, SESSION_CONNECTION_OPTIONS, SessionStore } from "@multisession/session-core";
import { seededRandom } from "@multisession/test-kit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { mannWhitney, medianDifference, quantile, sortedCopy } from "./statistics.js";

const KINDS = ["unknown user", "wrong secret", "valid token"] as const;
type Kind = (typeof KINDS)[number];

const { values } = parseArgs({
  options: { samples: { type: "string", default: "20000" }, users: { type: "string", default: "1000" } },
});
const samples = Number(values.samples);
const userCount = Number(values.users);
if (!Number.isSafeInteger(samples) || samples < 100 || !Number.isSafeInteger(userCount) || userCount < 1) {
  console.error("usage: timing.js [--samples N (>= 100)] [--users N (>= 1)]");
  process.exit(2);
}

const server = await startRedisServer();
const redis = new Redis(server.url, { ...SESSION_CONNECTION_OPTIONS });
const queueConnection = new Redis(server.url, { maxRetriesPerRequest: null });
const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: "timing" });
try {
  const store = new SessionStore({ redis, queue, prefix: "timing:" });
  const tokenFor = (userId: string, secret: string) => `${Buffer.from(userId).toString("base64url")}.${secret}`;
  const valid: string[] = [];
  const users: string[] = [];
  for (let i = 0; i < userCount; i++) {
    const userId = `user-${i.toString().padStart(6, "0")}`;
    users.push(userId);
    valid.push((await store.create(userId, { data: { i } })).token);
  }
  // Unknown users look like known ones: same length and shape.
  const tokens: Record<Kind, (i: number) => string> = {
    "unknown user": (i) =>
      tokenFor(`user-${(userCount + i).toString().padStart(6, "0")}`, randomBytes(32).toString("base64url")),
    "wrong secret": (i) => tokenFor(users[i % userCount] as string, randomBytes(32).toString("base64url")),
    "valid token": (i) => valid[i % userCount] as string,
  };
  const order: Kind[] = KINDS.flatMap((kind) => Array.from({ length: samples }, () => kind));
  const random = seededRandom(42);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as Kind, order[i] as Kind];
  }
  const latencies: Record<Kind, number[]> = { "unknown user": [], "wrong secret": [], "valid token": [] };
  const measure = async (kind: Kind, i: number): Promise<number> => {
    const token = tokens[kind](i);
    const start = process.hrtime.bigint();
    try {
      await store.authenticate(token);
      if (kind !== "valid token") throw new Error(`a ${kind} token authenticated`);
    } catch (error) {
      if (kind === "valid token") throw error;
    }
    return Number(process.hrtime.bigint() - start) / 1_000;
  };
  // Warm-up: scripts loaded, clock synced, JIT settled.
  for (let i = 0; i < 2_000; i++) await measure(KINDS[i % 3] as Kind, i);
  let index = 0;
  for (const kind of order) latencies[kind].push(await measure(kind, index++));

  const fmt = (us: number) => us.toFixed(1);
  console.log(
    `authenticate latency, µs (${samples} samples each, interleaved; ${userCount} users; redis-server on loopback)`,
  );
  console.log("| path | median | p90 | p99 |");
  console.log("| --- | --- | --- | --- |");
  for (const kind of KINDS) {
    const sorted = sortedCopy(latencies[kind]);
    console.log(
      `| ${kind} | ${fmt(quantile(sorted, 0.5))} | ${fmt(quantile(sorted, 0.9))} | ${fmt(quantile(sorted, 0.99))} |`,
    );
  }
  const a = latencies["unknown user"];
  const b = latencies["wrong secret"];
  const diff = medianDifference(a, b);
  const test = mannWhitney(a, b);
  console.log(
    `unknown user − wrong secret: median difference ${fmt(diff.difference)} µs, 95% bootstrap CI [${fmt(diff.low)}, ${fmt(diff.high)}] µs`,
  );
  console.log(
    `Mann-Whitney U: z = ${test.z.toFixed(2)}, p = ${test.p < 0.001 ? test.p.toExponential(1) : test.p.toFixed(3)}, P(unknown > wrong) = ${test.probabilityOfSuperiority.toFixed(3)}`,
  );
} finally {
  await queue.close();
  queueConnection.disconnect();
  redis.disconnect();
  await server.stop();
}
