/**
 * What a caller sees when Redis is in trouble, with the connection options
 * session-core ships (SESSION_CONNECTION_OPTIONS): down, paused (SIGSTOP),
 * or a reply lost after Redis ran the command. Every call ends within a
 * bound with a typed error, calls recover on their own once Redis answers,
 * and no call ever answers for a state its own lost first run created.
 *
 * Each case runs on a private redis-server (or a proxy in front of one) so
 * it can be stopped and frozen without touching the suite's server.
 */
import {
  type RedisFaultProxy,
  type RedisServer,
  startRedisFaultProxy,
  startRedisServer,
} from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import {
  CLEANUP_QUEUE_NAME,
  SESSION_CONNECTION_OPTIONS,
  SessionBackendError,
  SessionOutcomeUnknownError,
  SessionStore,
  userKey,
} from "../../src/index.js";

/** The documented bound (about 2 s: at most two commands of 1 s each), plus room for a loaded machine. */
const CALL_BOUND_MS = 2_600;

interface Setup {
  server: RedisServer;
  store: SessionStore;
  /** The store's own connection, with SESSION_CONNECTION_OPTIONS. */
  redis: Redis;
  /** A plain connection straight to the server, to read the truth. */
  direct: Redis;
  proxy?: RedisFaultProxy;
  queueConnection: Redis;
}

const open: Setup[] = [];

async function setUp(options: { viaProxy?: boolean } = {}): Promise<Setup> {
  const server = await startRedisServer();
  const proxy = options.viaProxy ? await startRedisFaultProxy({ host: server.host, port: server.port }) : undefined;
  const redis = new Redis(proxy?.url ?? server.url, { ...SESSION_CONNECTION_OPTIONS });
  redis.on("error", () => {});
  // The queue is only used for expired reads, which these tests do not make.
  const queueConnection = new Redis(server.url, { maxRetriesPerRequest: null, lazyConnect: true });
  queueConnection.on("error", () => {});
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection });
  queue.on("error", () => {});
  const store = new SessionStore({ redis, queue });
  const direct = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  direct.on("error", () => {});
  const setup = { server, store, redis, direct, proxy, queueConnection };
  open.push(setup);
  return setup;
}

afterEach(async () => {
  for (const { server, redis, direct, proxy, queueConnection } of open.splice(0)) {
    redis.disconnect();
    queueConnection.disconnect();
    direct.disconnect();
    await proxy?.close();
    if (server.pid > 0) {
      try {
        process.kill(server.pid, "SIGCONT");
      } catch {
        // already gone
      }
    }
    await server.stop();
  }
});

/** How long `call` took to settle, and how it settled. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const isScript = (args: string[]) => args[0] === "EVALSHA" || args[0] === "EVAL";

describe("Redis down", () => {
  it("every call fails with SessionBackendError within the bound, and works again soon after Redis answers", async () => {
    const { server, store, redis } = await setUp();
    const { sessionId, token } = await store.create("down-user");
    const port = server.port;
    await server.stop();
    await waitUntil(() => redis.status !== "ready");

    const calls = await Promise.all([
      timed(() => store.authenticate(token)),
      timed(() => store.get("down-user", sessionId)),
      timed(() => store.list("down-user")),
      timed(() => store.create("down-user")),
      timed(() => store.remove("down-user", sessionId)),
      timed(() => store.removeAll("down-user")),
      timed(() => store.setUserInfo("down-user", sessionId, { a: 1 })),
    ]);
    for (const call of calls) {
      expect(call.error).toBeInstanceOf(SessionBackendError);
      // Never sent (the client knew Redis was gone): nothing can have happened, so the outcome is known.
      expect(call.error).not.toBeInstanceOf(SessionOutcomeUnknownError);
      expect(call.ms).toBeLessThan(CALL_BOUND_MS);
    }

    const restarted = await startRedisServer({ port });
    open[0] = { ...(open[0] as Setup), server: restarted };
    const answeredAt = performance.now();
    let recovered = false;
    while (!recovered) {
      recovered = await store.create("down-user").then(
        () => true,
        () => false,
      );
      if (performance.now() - answeredAt > 5_000) break;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(recovered).toBe(true);
    // The reconnect backoff is capped at 500 ms.
    expect(performance.now() - answeredAt).toBeLessThan(1_500);
  });
});

describe("Redis paused", () => {
  it("reads fail within the bound; a write in flight says its outcome is unknown; all recovers on resume", async () => {
    const { server, store, direct } = await setUp();
    const { sessionId, token } = await store.create("paused-user");
    await store.authenticate(token);
    await store.remove("paused-user", "A".repeat(43)); // the remove script is cached, so its EVALSHA runs on resume
    process.kill(server.pid, "SIGSTOP");
    try {
      const [read, created, removed] = await Promise.all([
        timed(() => store.authenticate(token)),
        timed(() => store.create("paused-user")),
        timed(() => store.remove("paused-user", sessionId)),
      ]);
      expect(read.error).toBeInstanceOf(SessionBackendError);
      expect(read.error).not.toBeInstanceOf(SessionOutcomeUnknownError);
      expect(read.ms).toBeLessThan(CALL_BOUND_MS);
      // Sent and unanswered: Redis will run them when it wakes up, so nobody can say yet.
      expect(created.error).toBeInstanceOf(SessionOutcomeUnknownError);
      expect(created.ms).toBeLessThan(CALL_BOUND_MS);
      expect(removed.error).toBeInstanceOf(SessionOutcomeUnknownError);
      expect(removed.ms).toBeLessThan(CALL_BOUND_MS);
    } finally {
      process.kill(server.pid, "SIGCONT");
    }
    const resumedAt = performance.now();
    const after = await store.create("paused-user");
    expect(performance.now() - resumedAt).toBeLessThan(1_000);
    await expect(store.authenticate(after.token)).resolves.toMatchObject({ userId: "paused-user" });
    // The remove sent during the pause ran once Redis woke up: its session is gone; the create's is there.
    await direct.connect();
    expect(await direct.hlen(userKey("", "paused-user"))).toBe(2);
    await expect(store.authenticate(token)).rejects.toThrow(/not found/);
  });
});

describe("a lost reply", () => {
  it("create whose reply was lost is sent again and returns the session it stored, once", async () => {
    const { store, proxy, direct, redis } = await setUp({ viaProxy: true });
    await store.create("lost-create"); // the script is cached and the connection is up
    const swallowed = proxy?.swallowNextReply(isScript);
    const created = await store.create("lost-create", { data: { n: 1 } });
    await swallowed;
    await direct.connect();
    expect(await direct.hlen(userKey("", "lost-create"))).toBe(2);
    await expect(store.authenticate(created.token)).resolves.toMatchObject({ data: { n: 1 } });
    expect(redis.status).toBe("ready");
  });

  it("setUserInfo whose reply was lost is sent again and succeeds", async () => {
    const { store, proxy } = await setUp({ viaProxy: true });
    const { sessionId, token } = await store.create("lost-info");
    await store.setUserInfo("lost-info", sessionId, { v: 0 });
    const swallowed = proxy?.swallowNextReply(isScript);
    await store.setUserInfo("lost-info", sessionId, { v: 1 });
    await swallowed;
    await expect(store.authenticate(token)).resolves.toMatchObject({ userInfo: { v: 1 } });
  });

  it("logouts whose reply was lost say the outcome is unknown, never 'not found', and did happen", async () => {
    const { store, proxy, direct } = await setUp({ viaProxy: true });
    await direct.connect();
    const key = userKey("", "lost-logout");
    const first = await store.create("lost-logout");
    const second = await store.create("lost-logout");
    const third = await store.create("lost-logout");
    // Warm every script so the swallowed reply is the operation's own, not a NOSCRIPT.
    await store.remove("warm", first.sessionId);
    await store.revoke("warm", first.session.handle);
    await store.removeOthers("warm", first.sessionId).catch(() => {});
    await store.removeAll("warm");

    const attempts: [string, () => Promise<unknown>, () => Promise<boolean>][] = [
      ["remove", () => store.remove("lost-logout", first.sessionId), async () => (await direct.hlen(key)) === 2],
      ["revoke", () => store.revoke("lost-logout", second.session.handle), async () => (await direct.hlen(key)) === 1],
      [
        "removeOthers",
        async () => {
          const fourth = await store.create("lost-logout");
          const swallowed = proxy?.swallowNextReply(isScript);
          const outcome = store.removeOthers("lost-logout", fourth.sessionId);
          await swallowed;
          return outcome;
        },
        async () => (await direct.hlen(key)) === 1,
      ],
      ["removeAll", () => store.removeAll("lost-logout"), async () => (await direct.exists(key)) === 0],
    ];
    for (const [name, call, happened] of attempts) {
      const swallowed = name === "removeOthers" ? undefined : proxy?.swallowNextReply(isScript);
      const outcome = await timed(call);
      await swallowed;
      expect(outcome.error, name).toBeInstanceOf(SessionOutcomeUnknownError);
      expect((outcome.error as SessionOutcomeUnknownError).code).toBe("ERR_SESSION_OUTCOME_UNKNOWN");
      expect(outcome.ms, name).toBeLessThan(CALL_BOUND_MS);
      expect(await happened(), name).toBe(true);
    }
    await expect(store.authenticate(third.token)).rejects.toThrow(/not found/);
  });
});
