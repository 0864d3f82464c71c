/**
 * The at-rest scan: the main flows run through the real API and worker
 * processes (logins, reads, user info, rotation, device revocation, logouts,
 * an expired read whose deletion job the worker then processes), while a
 * MONITOR connection records every command sent to Redis. Afterwards every
 * key and value in Redis (hashes, sorted sets, BullMQ's job hashes, lists
 * and event streams), every log line and stderr of both processes, and the
 * whole command stream are searched for every secret and token handed out:
 * none may appear; only their hashes may.
 */
import { sessionKeyOf } from "@multisession/session-core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Apps, login, request, startApps } from "./support/api-process.js";
import { monitorRedis } from "./support/monitor.js";
import { dumpRedis, leaked, sleep } from "./support/private-redis.js";

const IDLE_MS = 1_500;

let apps: Apps;
let redis: Redis;
let commands: string[] = [];
const secrets = new Set<string>();
let stopMonitor: () => void = () => {};
const flows: string[] = [];

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const remember = (token: string) => {
  secrets.add(token);
  secrets.add(token.slice(token.indexOf(".") + 1));
};

beforeAll(async () => {
  apps = await startApps({
    worker: true,
    apiEnv: { SESSION_IDLE_TIMEOUT_MS: String(IDLE_MS), SESSION_TOUCH_INTERVAL_MS: "0" },
    // No sweep during the run: it would delete the expired session before the read that enqueues its job.
    workerEnv: { SWEEP_CRON: "0 0 1 1 *" },
  });
  redis = new Redis(apps.redis.url);
  const monitor = await monitorRedis(apps.redis.url);
  commands = monitor.commands;
  stopMonitor = () => monitor.stop();

  const api = apps.api;
  const users = await Promise.all(["ana", "ben", "cy"].map((userId) => login(api, userId)));
  const second = await login(api, "ana");
  const third = await login(api, "ana");
  for (const user of [...users, second, third]) remember(user.token);
  const [ana, ben, cy] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0]];
  await request(api, "GET", "/me", { headers: bearer(ana.token) });
  await request(api, "GET", "/sessions", { headers: bearer(ana.token) });
  await request(api, "GET", "/me", { headers: { cookie: `ms_session=${ben.token}` } });
  await request(api, "PUT", "/me/info", {
    headers: { ...bearer(ana.token), "content-type": "application/json" },
    body: JSON.stringify({ name: "Ana" }),
  });
  flows.push("login", "reads", "user info");
  const rotated = await request(api, "POST", "/auth/rotate", { headers: bearer(ben.token) });
  if (rotated.status === 200) {
    remember((rotated.json as { token: string }).token);
    flows.push("rotate");
  }
  await request(api, "DELETE", `/sessions/${second.handle}`, { headers: bearer(ana.token) });
  await request(api, "POST", "/auth/logout-others", { headers: bearer(ana.token) });
  await request(api, "POST", "/auth/logout", { headers: bearer(ana.token) });
  await request(api, "POST", "/auth/logout-all", { headers: bearer(cy.token) });
  flows.push("revoke", "logout-others", "logout", "logout-all");

  // An expired read: the API enqueues the deletion, the worker carries it out.
  const late = await login(api, "dee");
  remember(late.token);
  await sleep(IDLE_MS + 200);
  const expired = await request(api, "GET", "/me", { headers: bearer(late.token) });
  expect((expired.json as { error: { code: string } }).error.code).toBe("ERR_SESSION_EXPIRED");
  const field = sessionKeyOf(late.token.slice(late.token.indexOf(".") + 1));
  const completed = `${apps.queuePrefix}:session-cleanup:completed`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await redis.zcard(completed)) === 0) await sleep(100);
  expect(await redis.zcard(completed)).toBeGreaterThan(0);
  expect(await redis.hexists(`${apps.sessionPrefix}usersession:{dee}`, field)).toBe(0);
  flows.push("expired read", "deletion job");
}, 60_000);

afterAll(async () => {
  stopMonitor();
  redis?.disconnect();
  await apps?.close();
});

describe("at rest: no secret or token anywhere", () => {
  it("ran the main flows and handed out secrets to look for", () => {
    expect(flows).toEqual(expect.arrayContaining(["login", "revoke", "logout", "expired read", "deletion job"]));
    expect(secrets.size).toBeGreaterThanOrEqual(14);
  });

  it("every key and value in Redis, BullMQ's jobs and events included, holds no secret or token", async () => {
    const { keys, text } = await dumpRedis(redis);
    expect(keys).toBeGreaterThan(5);
    expect(text).toContain("delete-expired-session"); // a job's hash was read
    expect(text).toContain(apps.sessionPrefix); // and the session keys
    expect(leaked(text, secrets)).toEqual([]);
    console.info(
      `at-rest scan: ${keys} keys, ${text.length} characters, ${secrets.size} secrets and tokens, none found`,
    );
  });

  it("no command sent to Redis (MONITOR) carries a secret or token", () => {
    const stream = commands.join("\n");
    expect(commands.length).toBeGreaterThan(50);
    expect(stream.toLowerCase()).toContain("evalsha");
    expect(leaked(stream, secrets)).toEqual([]);
    console.info(`MONITOR: ${commands.length} commands, none with a secret or token`);
  });

  it("no log line or stderr of the API or the worker carries a secret or token", () => {
    const worker = apps.worker;
    expect(worker).toBeDefined();
    const logs = [apps.api, worker].map((service) =>
      [JSON.stringify(service?.logs ?? []), service?.stderr() ?? ""].join("\n"),
    );
    expect(apps.api.logs.length).toBeGreaterThan(10);
    expect(logs.join("\n")).toContain("/auth/login"); // requests are logged
    for (const text of logs) expect(leaked(text, secrets)).toEqual([]);
    console.info(
      `logs: ${apps.api.logs.length} API lines, ${worker?.logs.length ?? 0} worker lines, none with a secret or token`,
    );
  });
});
