/**
 * The worker on a Redis Cluster of three masters with a replica each, as a
 * real child process configured by the environment alone
 * (REDIS_CLUSTER_NODES, a `{…}`-tagged QUEUE_PREFIX). Sessions are made and
 * read through session-core on the same cluster: expired sessions that were
 * read are deleted by the worker's deletion jobs, and users whose sessions
 * all expired unread by its sweep, on every master; /readyz says so.
 */
import { type RedisCluster, startRedisCluster } from "@multisession/redis-server";
import {
  CLEANUP_QUEUE_NAME,
  SessionExpiredError,
  SessionStore,
  sessionKeyOf,
  slotOf,
  userKey,
} from "@multisession/session-core";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "./support/sessions.js";
import { eventually, getJson, type LogLine, startWorker, type WorkerProcess } from "./support/worker.js";

const PREFIX = "wcluster:";
const QUEUE_PREFIX = "{wcluster-jobs}";
const IDLE_MS = 1_000;
const NEVER = "0 0 1 1 *";
const READERS = 30;
const DANGLING = 600;

let cluster: RedisCluster;
let env: Record<string, string>;
let redis: Cluster;
let queueConnection: Cluster;
let queue: Queue;
let store: SessionStore;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  env = {
    REDIS_CLUSTER_NODES: cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(","),
    SESSION_PREFIX: PREFIX,
    QUEUE_PREFIX,
  };
  redis = new Cluster(cluster.nodes);
  queueConnection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
  queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: QUEUE_PREFIX });
  store = new SessionStore({ redis, queue, prefix: PREFIX, idleTimeoutMs: IDLE_MS, touchIntervalMs: 0 });
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
  await queue?.close();
  await queueConnection?.quit();
  await redis?.quit();
  await cluster?.stop();
});

const problems = (worker: WorkerProcess): LogLine[] => worker.logs.filter((line) => line.level >= 40);

/** The master holding a slot, as `host:port`. */
async function masterOf(slot: number): Promise<string> {
  const ranges = (await redis.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  return `${range?.[2][0]}:${range?.[2][1]}`;
}

describe("the worker on a Redis Cluster (3 masters, 3 replicas)", () => {
  it("is ready, with the cluster check", async () => {
    const worker = await startWorker({ ...env, SWEEP_CRON: NEVER });
    workers.push(worker);
    await eventually(async () => (await getJson(worker.url("/readyz"))).status === 200, 15_000);
    expect(await getJson(worker.url("/readyz"))).toEqual({
      status: 200,
      body: {
        status: "ready",
        sessionsConnection: true,
        queueConnection: true,
        cluster: true,
        workerConnection: true,
        consumer: true,
      },
    });
  });

  it("deletes expired sessions that were read through their deletion jobs", async () => {
    const worker = workers[0] as WorkerProcess;
    const readers = await Promise.all(
      Array.from({ length: READERS }, async (_, i) => ({
        userId: `reader-${i}`,
        sessionId: (await store.create(`reader-${i}`)).sessionId,
      })),
    );
    // The readers' hashes are spread over the three masters.
    expect(new Set(await Promise.all(readers.map(({ userId }) => masterOf(slotOf(userId))))).size).toBe(3);
    await sleep(IDLE_MS + 300);
    for (const { userId, sessionId } of readers) {
      await expect(store.get(userId, sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    }
    await eventually(async () => (await queue.getJobCounts("completed")).completed === READERS, 30_000);
    const jobs = await queue.getJobs(["completed"]);
    expect(jobs.every((job) => job.returnvalue?.deletedSession === true)).toBe(true);
    for (const { userId, sessionId } of readers) {
      expect(await redis.hexists(userKey(PREFIX, userId), sessionKeyOf(sessionId))).toBe(0);
    }
    // This worker's sweeper never ran: the jobs did it.
    expect(worker.logs.filter((line) => line.msg === "sweep finished")).toEqual([]);
  });

  it("sweeps the users whose sessions all expired unread, on every master, each once", async () => {
    for (let start = 0; start < DANGLING; start += 200) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => store.create(`dangling-${start + i}`)));
    }
    await sleep(IDLE_MS + 300);
    const sweeping = await startWorker({ ...env, SWEEP_CRON: "* * * * * *" });
    workers.push(sweeping);
    const exists = async () => {
      const all = await Promise.all(
        Array.from({ length: DANGLING }, (_, i) => redis.exists(userKey(PREFIX, `dangling-${i}`))),
      );
      return all.filter((found) => found === 1).length;
    };
    await eventually(async () => (await exists()) === 0, 60_000);
    const sweeps = sweeping.logs.filter((line) => line.msg === "sweep finished");
    expect(sweeps.reduce((sum, line) => sum + Number(line.hashesDeleted), 0)).toBe(DANGLING);
    expect(sweeps.every((line) => line.groupsSwept === 16)).toBe(true);
    expect((await getJson(sweeping.url("/readyz"))).status).toBe(200);
  });

  it("neither worker logged a warning or an error", () => {
    for (const worker of workers) expect(problems(worker)).toEqual([]);
  });
});
