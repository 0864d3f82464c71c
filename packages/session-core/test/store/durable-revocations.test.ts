/**
 * durableRevocations on a single Redis with one replica (two private
 * redis-server processes): the acknowledgement, its absence, a master that
 * has no script cached yet, and the store's close path. The cluster form is
 * in test/cluster/durable-revocations.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLEANUP_QUEUE_NAME,
  RevocationNotReplicatedError,
  SESSION_CONNECTION_OPTIONS,
  SessionBackendError,
  SessionNotFoundError,
  SessionStore,
  type SessionStoreOptions,
} from "../../src/index.js";

let master: RedisServer;
let replica: RedisServer;
let redis: Redis;
let queue: Queue;
let counter = 0;
/** Where the replica keeps the RDB file of its first sync (not the working directory). */
let replicaDir: string;

beforeAll(async () => {
  master = await startRedisServer();
  replicaDir = mkdtempSync(join(tmpdir(), "ms-replica-"));
  replica = await startRedisServer({ args: ["--replicaof", master.host, String(master.port), "--dir", replicaDir] });
  redis = new Redis(master.url, { ...SESSION_CONNECTION_OPTIONS });
  queue = new Queue(CLEANUP_QUEUE_NAME, { connection: new Redis(master.url, { maxRetriesPerRequest: null }) });
  // Ready means linked and synced: a write of our own acknowledged (on a client without a command timeout).
  const setup = new Redis(master.url);
  await setup.set("sync", "x");
  expect(await setup.wait(1, 10_000)).toBe(1);
  setup.disconnect();
});

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await replica?.stop();
  await master?.stop();
  if (replicaDir) rmSync(replicaDir, { recursive: true, force: true });
});

function openStore(options: Partial<SessionStoreOptions>): SessionStore {
  return new SessionStore({ redis, queue, prefix: `single-${++counter}:`, ...options });
}

describe("durableRevocations on a single Redis with a replica", () => {
  it("a logout returns once the replica has it, even on a master that has no script cached yet", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 5_000 } });
    try {
      const { sessionId } = await store.create("ada");
      await redis.script("FLUSH"); // the durable path's EVALSHA answers NOSCRIPT: it must send the source
      expect(await store.remove("ada", sessionId)).toBe(true);
      const onReplica = new Redis(replica.url);
      try {
        expect(await onReplica.exists(`single-${counter}:usersession:{ada}`)).toBe(0);
      } finally {
        onReplica.disconnect();
      }
    } finally {
      await store.close();
    }
  });

  it("asking for more replicas than there are: the logout happens and says so", async () => {
    const store = openStore({ durableRevocations: { replicas: 2, timeoutMs: 50 } });
    try {
      const { sessionId } = await store.create("ada");
      const report = await store.removeAll("ada").catch((error: unknown) => error);
      expect(report).toBeInstanceOf(RevocationNotReplicatedError);
      expect(report).toMatchObject({ operation: "removeAll", acknowledged: 1, required: 2 });
      expect((report as RevocationNotReplicatedError).result).toBe(1);
      await expect(store.get("ada", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    } finally {
      await store.close();
    }
  });

  it("a paused replica: RevocationNotReplicatedError, and the session is gone on the master", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 100 } });
    const { sessionId, session } = await store.create("ada");
    await store.create("ada");
    process.kill(replica.pid, "SIGSTOP");
    try {
      const report = await store.revoke("ada", session.handle).catch((error: unknown) => error);
      expect(report).toBeInstanceOf(RevocationNotReplicatedError);
      expect(report).toMatchObject({ operation: "revoke", acknowledged: 0, required: 1 });
      await expect(store.get("ada", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
      // A session that was not live wrote nothing: its own error, not the replication one.
      await expect(store.removeOthers("ada", sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    } finally {
      process.kill(replica.pid, "SIGCONT");
      await store.close();
    }
  });

  it("a script the master lacks is sent again, and its WAIT waits only for what is left of timeoutMs", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 300 } });
    const { sessionId } = await store.create("ada");
    const monitor = await new Redis(master.url).monitor();
    const waits: number[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === "wait") waits.push(Number(args[2]));
    });
    await redis.script("FLUSH");
    process.kill(replica.pid, "SIGSTOP");
    try {
      const report = await store.remove("ada", sessionId).catch((error: unknown) => error);
      expect(report).toBeInstanceOf(RevocationNotReplicatedError);
      expect((report as RevocationNotReplicatedError).result).toBe(true);
    } finally {
      process.kill(replica.pid, "SIGCONT");
      monitor.disconnect();
      await store.close();
    }
    // The first WAIT followed a NOSCRIPT (nothing written); the second, after the script ran, got the rest.
    expect(waits).toHaveLength(2);
    // Arguments, not durations: the first WAIT got at most timeoutMs, the second only what the first left over.
    expect(waits[0]).toBeLessThanOrEqual(300);
    expect(waits[1]).toBeLessThan(waits[0] as number);
  });

  it("a burst of logouts beyond the store's connections: each WAIT gets what is left of its call's timeoutMs", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 300 } });
    const sessions = await Promise.all(Array.from({ length: 8 }, () => store.create("ada")));
    const monitor = await new Redis(master.url).monitor();
    const waits: number[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === "wait") waits.push(Number(args[2]));
    });
    process.kill(replica.pid, "SIGSTOP");
    try {
      const reports = await Promise.all(
        sessions.map(({ sessionId }) => store.remove("ada", sessionId).catch((error: unknown) => error)),
      );
      expect(reports.every((report) => report instanceof RevocationNotReplicatedError)).toBe(true);
    } finally {
      process.kill(replica.pid, "SIGCONT");
      monitor.disconnect();
      await store.close();
    }
    // Four connections: four calls wait in full; the four that queued behind them have all but used theirs up.
    // (Compared with each other, not with clock figures, so a slow machine cannot fail it.)
    expect(waits).toHaveLength(8);
    const sorted = [...waits].sort((a, b) => a - b);
    expect(Math.max(...sorted.slice(0, 4))).toBeLessThan(Math.min(...sorted.slice(4)) / 2);
    expect(Math.max(...sorted)).toBeLessThanOrEqual(300);
  });

  it("close() ends the store's own connections, never the caller's client", async () => {
    const store = openStore({ durableRevocations: { replicas: 1, timeoutMs: 1_000 } });
    const { sessionId } = await store.create("ada");
    const other = await store.create("ada");
    expect(await store.remove("ada", other.sessionId)).toBe(true);
    const waiters = async () =>
      String(await redis.client("LIST"))
        .split("\n")
        .filter((c) => c.includes(" cmd=wait "));
    expect(await waiters()).toHaveLength(1); // the connection the logout used, idle now
    await store.close();
    await store.close();
    expect(await waiters()).toHaveLength(0);
    const report = await store.remove("ada", sessionId).catch((error: unknown) => error);
    expect(report).toBeInstanceOf(SessionBackendError);
    expect((report as SessionBackendError).code).toBe("ERR_SESSION_BACKEND");
    expect(await store.get("ada", sessionId)).toMatchObject({ userId: "ada" });
  });
});
