/**
 * The demo on a Redis Cluster, configured by the environment alone: the API
 * and the worker as real child processes given REDIS_CLUSTER_NODES (and no
 * QUEUE_PREFIX: the cluster default, `{bull}`), on a private loopback cluster
 * of three masters started for this file. Every flow the demo has works on
 * it without a CROSSSLOT or MOVED error reaching a client or a log line;
 * `/readyz` in both processes follows the cluster's state.
 */
import { type RedisCluster, startRedisCluster } from "@multisession/redis-server";
import { CLEANUP_QUEUE_NAME, userKey } from "@multisession/session-core";
import { type LogLine, type ServiceProcess, spawnService, startService } from "@multisession/test-kit";
import { Queue } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_MAIN, call, DESKTOP_UA, errorOf, eventually, IOS_UA, login, WORKER_MAIN } from "./support/stack.js";

const PREFIX = "demo-cluster:";
/** Short enough to wait out, long enough for a login flow between two reads. */
const IDLE_MS = 2_500;
const NEVER = "0 0 1 1 *";

let cluster: RedisCluster;
let env: Record<string, string>;
let redis: Cluster;
let queueConnection: Cluster;
let queue: Queue;
let api: ServiceProcess;
let worker: ServiceProcess;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  env = {
    REDIS_CLUSTER_NODES: cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(","),
    SESSION_PREFIX: PREFIX,
  };
  redis = new Cluster(cluster.nodes);
  queueConnection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
  queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: "{bull}" });
  // The sweeper stays idle in this worker, so that what deletes an expired session read is its job.
  [api, worker] = await Promise.all([
    startService(
      API_MAIN,
      { ...env, SESSION_IDLE_TIMEOUT_MS: String(IDLE_MS), SESSION_TOUCH_INTERVAL_MS: "0" },
      "api started",
    ),
    startService(WORKER_MAIN, { ...env, SWEEP_CRON: NEVER }, "worker started"),
  ]);
  // As an orchestrator would: traffic once both say ready.
  await eventually(async () => (await readyz(api)).status === 200 && (await readyz(worker)).status === 200);
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await queue?.close();
  await queueConnection?.quit();
  await redis?.quit();
  await cluster?.stop();
});

async function readyz(service: ServiceProcess) {
  const response = await fetch(service.url("/readyz"));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const problems = (service: ServiceProcess): LogLine[] => service.logs.filter((line) => line.level >= 40);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the demo on a three-master Redis Cluster", () => {
  it("/readyz answers 200 in both processes, with the cluster check", async () => {
    expect(await readyz(api)).toEqual({
      status: 200,
      body: { status: "ready", redis: true, queue: true, cluster: true },
    });
    expect(await readyz(worker)).toMatchObject({ status: 200, body: { status: "ready", cluster: true } });
  });

  it("logs in on two devices, answers /me, lists the devices and logs out, for users on every master", async () => {
    const users = Array.from({ length: 12 }, (_, i) => `member-${i}`);
    for (const userId of users) {
      const phone = await login(api, userId, "phone", IOS_UA);
      const laptop = await login(api, userId, "laptop", DESKTOP_UA);
      expect(await call(api, "GET", "/me", { token: phone.token })).toMatchObject({ status: 200, body: { userId } });
      const listed = await call(api, "GET", "/sessions", { token: laptop.token });
      const sessions = listed.body?.sessions as { handle: string; current: boolean }[];
      expect(sessions.map((s) => s.handle).sort()).toEqual([phone.session.handle, laptop.session.handle].sort());
      expect(sessions.find((s) => s.current)?.handle).toBe(laptop.session.handle);
      expect((await call(api, "POST", "/auth/logout", { token: phone.token })).status).toBe(204);
      expect((await call(api, "GET", "/me", { token: phone.token })).status).toBe(401);
      expect((await call(api, "GET", "/me", { token: laptop.token })).status).toBe(200);
    }
    // The users' hashes are spread over all three masters.
    const perMaster = await Promise.all(
      redis.nodes("master").map(async (node) => (await node.keys(`${PREFIX}usersession:{member-*`)).length),
    );
    expect(perMaster.every((count) => count > 0)).toBe(true);
  });

  it("an expired read answers ERR_SESSION_EXPIRED and its job, run by the worker, deletes the session", async () => {
    const reader = await login(api, "reader", "kiosk", DESKTOP_UA);
    // Left alone for the sweeper test below.
    await login(api, "sleeper", "tablet", IOS_UA);
    await sleep(IDLE_MS + 500);
    expect(await call(api, "GET", "/me", { token: reader.token })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_EXPIRED" } },
    });
    await eventually(async () => (await queue.getJobCounts("completed")).completed === 1, 15_000);
    const [job] = await queue.getJobs(["completed"]);
    expect(job?.data.userId).toBe("reader");
    expect(job?.returnvalue).toMatchObject({ deletedSession: true });
    expect(await call(api, "GET", "/me", { token: reader.token })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
  });

  it("a worker whose sweeper runs deletes the sessions that expired without a read", async () => {
    expect(await redis.exists(userKey(PREFIX, "sleeper"))).toBe(1);
    const sweeping = await startService(WORKER_MAIN, { ...env, SWEEP_CRON: "* * * * * *" }, "worker started");
    try {
      const swept = await sweeping.waitForLog(
        (line) => line.msg === "sweep finished" && (line.sessionsDeleted as number) > 0,
      );
      expect(swept.hashesDeleted).toBeGreaterThan(0);
      await eventually(async () => (await redis.exists(userKey(PREFIX, "sleeper"))) === 0);
      expect(problems(sweeping)).toEqual([]);
    } finally {
      expect(await sweeping.stop()).toBe(0);
    }
  });

  it("neither process logged a warning or an error", () => {
    expect(problems(api)).toEqual([]);
    expect(problems(worker)).toEqual([]);
  });

  it("while a master is frozen its users' requests answer 503 ERR_SESSION_BACKEND, the others' 200", async () => {
    // A refused token creates the throttle's per-address counter, so that its master can be found and spared.
    expect((await call(api, "GET", "/me", { token: "garbage" })).status).toBe(401);
    const spared = new Set([await masterOf("{bull}"), await masterOf(`${PREFIX}usersession-activity`)]);
    for (const node of redis.nodes("master")) {
      if ((await node.keys(`${PREFIX}throttle:token-address:*`)).length > 0) spared.add(node.options.port as number);
    }
    const ports = await Promise.all(redis.nodes("master").map((node) => node.options.port as number));
    const frozenPort = ports.find((port) => !spared.has(port)) as number;
    const frozenUser = await userOn((port) => port === frozenPort);
    const liveUser = await userOn((port) => port !== frozenPort);
    const frozen = await login(api, frozenUser, "phone", IOS_UA);
    const live = await login(api, liveUser, "phone", IOS_UA);

    cluster.pause({ port: frozenPort });
    let answers: Awaited<ReturnType<typeof call>>[];
    try {
      // A hang fails the test: every answer must come, bounded by REDIS_COMMAND_TIMEOUT_MS.
      answers = await Promise.all([
        call(api, "GET", "/me", { token: frozen.token, signal: AbortSignal.timeout(10_000) }),
        call(api, "GET", "/sessions", { token: frozen.token, signal: AbortSignal.timeout(10_000) }),
        call(api, "GET", "/me", { token: live.token, signal: AbortSignal.timeout(10_000) }),
      ]);
    } finally {
      cluster.resume({ port: frozenPort });
    }
    for (const answer of answers.slice(0, 2)) {
      expect(answer.status).toBe(503);
      expect(errorOf(answer).code).toMatch(/^ERR_SESSION_(BACKEND|OUTCOME_UNKNOWN)$/);
    }
    expect(answers[2]).toMatchObject({ status: 200, body: { userId: liveUser } });
    // Once it answers again, so do its users' requests.
    await eventually(
      async () => (await call(api, "POST", "/auth/login", { body: loginBody(frozenUser) })).status === 200,
    );
  });

  it("a QUEUE_PREFIX without a hash tag stops either process at start with exit code 78", async () => {
    for (const [main, service] of [
      [API_MAIN, "demo-api"],
      [WORKER_MAIN, "worker"],
    ] as const) {
      const refused = spawnService(main, { ...env, QUEUE_PREFIX: "bull" });
      expect(await refused.exited).toBe(78);
      expect(refused.stderr().trim()).toBe(
        `multisession ${service}: invalid configuration: QUEUE_PREFIX must contain a {hash tag} on a Redis Cluster, so that all of the queue's keys are in one slot (received "bull"; e.g. "{bull}")`,
      );
      expect(refused.logs).toEqual([]);
    }
  });

  it("REDIS_URL pointed at a node of the cluster stops either process with exit code 78, naming REDIS_CLUSTER_NODES", async () => {
    const { host, port } = cluster.nodes[0] as { host: string; port: number };
    for (const [main, service] of [
      [API_MAIN, "demo-api"],
      [WORKER_MAIN, "worker"],
    ] as const) {
      const refused = spawnService(main, { REDIS_URL: `redis://${host}:${port}`, SESSION_PREFIX: "misdirected:" });
      expect(await refused.exited).toBe(78);
      // The line is the last; the API may have printed a library's notice before it.
      expect(refused.stderr().trim().split("\n").at(-1)).toBe(
        `multisession-${service}: invalid configuration: REDIS_URL points at a node of a Redis Cluster: set REDIS_CLUSTER_NODES instead`,
      );
      expect(problems(refused)).toEqual([]);
    }
  });

  it("/readyz answers 503 naming the cluster check while a master cannot serve a slot, and 200 once it can", async () => {
    const admin = await masterWithAnEmptySlot();
    await admin.node.call("CLUSTER", "DELSLOTS", admin.slot);
    try {
      await eventually(async () => (await readyz(api)).status === 503);
      expect((await readyz(api)).body).toEqual({ status: "not ready", redis: true, queue: true, cluster: false });
      await eventually(async () => (await readyz(worker)).status === 503);
      expect((await readyz(worker)).body).toMatchObject({ status: "not ready", cluster: false });
    } finally {
      await admin.node.call("CLUSTER", "ADDSLOTS", admin.slot);
      admin.node.disconnect();
    }
    await eventually(async () => (await readyz(api)).status === 200 && (await readyz(worker)).status === 200);
  });
});

/** The port of the master serving `key`'s slot. */
async function masterOf(key: string): Promise<number> {
  const slot = Number(await redis.cluster("KEYSLOT", key));
  const ranges = (await redis.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
  const range = ranges.find(([from, to]) => from <= slot && slot <= to);
  if (!range) throw new Error(`slot ${slot} is not served`);
  return range[2][1];
}

/** A user id whose hash lands on a master that `accept`s. */
async function userOn(accept: (port: number) => boolean): Promise<string> {
  for (let i = 0; ; i++) {
    const userId = `placed-${i}`;
    if (accept(await masterOf(userKey(PREFIX, userId)))) return userId;
  }
}

const loginBody = (userId: string) => ({ userId, password: "demo", deviceName: "phone" });

/** A plain connection to one master, and the first slot it serves that holds no key. */
async function masterWithAnEmptySlot(): Promise<{ node: Redis; slot: number }> {
  const { host, port } = cluster.nodes[0] as { host: string; port: number };
  const node = new Redis(port, host);
  const ranges = (await node.call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
  const own = ranges.find(([, , [, owner]]) => owner === port);
  if (!own) throw new Error(`node ${port} serves no slot`);
  for (let slot = own[0]; slot <= own[1]; slot++) {
    if ((await node.call("CLUSTER", "COUNTKEYSINSLOT", slot)) === 0) return { node, slot };
  }
  throw new Error(`every slot of node ${port} holds a key`);
}
