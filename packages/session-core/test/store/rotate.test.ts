/**
 * rotate: a new secret for the same session (OWASP's defence against session
 * fixation on a privilege change). The handle, device, data and createdAt
 * stay; the old secret is gone at once, for every store instance; the
 * rotation counts as a use of the session and renews it as a read does.
 */
import { startRedisFaultProxy, startRedisServer } from "@multisession/redis-server";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CLEANUP_QUEUE_NAME,
  DELETE_EXPIRED_SESSION_JOB,
  decodeRecord,
  InvalidInputError,
  SESSION_CONNECTION_OPTIONS,
  SessionBackendError,
  SessionExpiredError,
  SessionNotFoundError,
  SessionStore,
  sessionKeyOf,
  userKey,
} from "../../src/index.js";
import { loadScripts } from "../../src/scripts/index.js";
import { openStore, type StoreContext, sleep } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore();
});
afterEach(() => ctx.close());

/** The user's session fields as Redis holds them, each with the handle its record gives. */
async function storedFields(userId: string): Promise<{ field: string; handle: string | undefined }[]> {
  const all = await ctx.redis.hgetall(userKey(ctx.prefix, userId));
  return Object.entries(all)
    .filter(([field]) => field !== "#info")
    .map(([field, value]) => ({ field, handle: decodeRecord(field, userId, value, null)?.handle }));
}

describe("rotate", () => {
  it("returns a new secret and token for the same session: handle, device, data and createdAt unchanged", async () => {
    const created = await ctx.store.create("rot-a", {
      data: { role: "user" },
      device: { name: "Pixel 9", platform: "android", userAgent: "app/1.0", ip: "10.0.0.7" },
      userInfo: { plan: "pro" },
    });
    const rotated = await ctx.store.rotate("rot-a", created.sessionId);
    expect(rotated.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(rotated.sessionId, "base64url")).toHaveLength(32);
    expect(rotated.sessionId).not.toBe(created.sessionId);
    expect(rotated.token.endsWith(`.${rotated.sessionId}`)).toBe(true);
    expect(rotated.token).not.toBe(created.token);
    expect(rotated.session).toMatchObject({
      handle: created.session.handle,
      userId: "rot-a",
      data: { role: "user" },
      userInfo: { plan: "pro" },
      device: created.session.device,
      createdAt: created.session.createdAt,
    });
    const read = await ctx.store.authenticate(rotated.token);
    expect(read).toMatchObject({
      handle: created.session.handle,
      data: { role: "user" },
      device: created.session.device,
    });
    expect(read.createdAt).toBe(created.session.createdAt);
  });

  it("the old secret is rejected on the next read, by token and by id", async () => {
    const created = await ctx.store.create("rot-b");
    await ctx.store.get("rot-b", created.sessionId); // warm: this store has served it before
    await ctx.store.rotate("rot-b", created.sessionId);
    await expect(ctx.store.get("rot-b", created.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.touch("rot-b", created.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.setUserInfo("rot-b", created.sessionId, { a: 1 })).rejects.toBeInstanceOf(
      SessionNotFoundError,
    );
    await expect(ctx.store.removeOthers("rot-b", created.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await ctx.store.remove("rot-b", created.sessionId)).toBe(false);
  });

  it("the old secret is rejected by another store instance too, and its field is gone from Redis", async () => {
    const other = ctx.another();
    const created = await ctx.store.create("rot-c");
    // The other instance has a recent Redis clock and has served the session: its next read takes the fast path.
    await other.authenticate(created.token);
    const rotated = await ctx.store.rotate("rot-c", created.sessionId);
    await expect(other.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(other.get("rot-c", created.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(other.authenticate(rotated.token)).resolves.toMatchObject({ handle: created.session.handle });
    const fields = await storedFields("rot-c");
    expect(fields).toEqual([{ field: sessionKeyOf(rotated.sessionId), handle: created.session.handle }]);
    expect(await ctx.redis.hexists(userKey(ctx.prefix, "rot-c"), sessionKeyOf(created.sessionId))).toBe(0);
  });

  it("never stores the secret or the token", async () => {
    const created = await ctx.store.create("rot-secret");
    const rotated = await ctx.store.rotate("rot-secret", created.sessionId);
    const dump = JSON.stringify(await ctx.redis.hgetall(userKey(ctx.prefix, "rot-secret")));
    expect(dump).not.toContain(rotated.sessionId);
    expect(dump).not.toContain(created.sessionId);
  });

  it("list shows one session with the same handle, and revoke by that handle logs the rotated session out", async () => {
    const created = await ctx.store.create("rot-d", { device: { name: "laptop" } });
    const other = await ctx.store.create("rot-d", { device: { name: "phone" } });
    const rotated = await ctx.store.rotate("rot-d", created.sessionId);
    const listed = await ctx.store.list("rot-d");
    expect(listed.map((s) => s.handle).sort()).toEqual([created.session.handle, other.session.handle].sort());
    expect(listed.find((s) => s.handle === created.session.handle)?.device).toEqual({ name: "laptop" });
    expect(await ctx.store.revoke("rot-d", created.session.handle)).toBe(true);
    await expect(ctx.store.authenticate(rotated.token)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.authenticate(other.token)).resolves.toMatchObject({ handle: other.session.handle });
    expect(await ctx.store.revoke("rot-d", created.session.handle)).toBe(false);
  });

  it("the rotated session's new field prefix is not a handle: revoke by it finds nothing", async () => {
    const created = await ctx.store.create("rot-prefix");
    const rotated = await ctx.store.rotate("rot-prefix", created.sessionId);
    const newPrefix = sessionKeyOf(rotated.sessionId).slice(0, 16);
    expect(await ctx.store.revoke("rot-prefix", newPrefix)).toBe(false);
    await expect(ctx.store.authenticate(rotated.token)).resolves.toMatchObject({ handle: created.session.handle });
  });

  it("rotates twice: each rotation retires the secret before it, the handle stays", async () => {
    const created = await ctx.store.create("rot-e", { data: { n: 1 } });
    const first = await ctx.store.rotate("rot-e", created.sessionId);
    const second = await ctx.store.rotate("rot-e", first.sessionId);
    expect(second.session.handle).toBe(created.session.handle);
    expect(second.session.createdAt).toBe(created.session.createdAt);
    await expect(ctx.store.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.authenticate(first.token)).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(ctx.store.authenticate(second.token)).resolves.toMatchObject({
      handle: created.session.handle,
      data: { n: 1 },
    });
    await expect(ctx.store.rotate("rot-e", first.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await storedFields("rot-e")).toEqual([
      { field: sessionKeyOf(second.sessionId), handle: created.session.handle },
    ]);
  });

  it("renews the session as a read does, never past its absolute expiry, and keeps the key's TTL covering it", async () => {
    const store = ctx.another({ idleTimeoutMs: 120_000, absoluteTimeoutMs: 600_000, keyGraceMs: 5_000 });
    const created = await store.create("rot-f");
    await sleep(30);
    const rotated = await store.rotate("rot-f", created.sessionId);
    expect(rotated.session.lastSeenAt).toBeGreaterThan(created.session.lastSeenAt);
    expect(rotated.session.expiresAt).toBe(rotated.session.lastSeenAt + 120_000);
    expect(await ctx.redis.pexpiretime(userKey(ctx.prefix, "rot-f"))).toBe(rotated.session.expiresAt + 5_000);

    const capped = ctx.another({ idleTimeoutMs: 120_000, absoluteTimeoutMs: 120_010 });
    const short = await capped.create("rot-f2");
    await sleep(30);
    const rotatedShort = await capped.rotate("rot-f2", short.sessionId);
    expect(rotatedShort.session.expiresAt).toBe(short.session.createdAt + 120_010);
  });

  it("an unknown session gives SessionNotFoundError and writes nothing", async () => {
    await expect(ctx.store.rotate("rot-nobody", "A".repeat(43))).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await ctx.redis.exists(userKey(ctx.prefix, "rot-nobody"))).toBe(0);
    const created = await ctx.store.create("rot-g");
    await expect(ctx.store.rotate("rot-g", "A".repeat(43))).rejects.toMatchObject({ code: "ERR_SESSION_NOT_FOUND" });
    expect(await storedFields("rot-g")).toEqual([
      { field: sessionKeyOf(created.sessionId), handle: created.session.handle },
    ]);
  });

  it("a removed session gives SessionNotFoundError", async () => {
    const created = await ctx.store.create("rot-removed");
    await ctx.store.remove("rot-removed", created.sessionId);
    await expect(ctx.store.rotate("rot-removed", created.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
  });

  it("refuses malformed arguments with InvalidInputError", async () => {
    await expect(ctx.store.rotate("rot-h", "short")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(ctx.store.rotate("a{b}", "A".repeat(43))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(ctx.store.rotate("rot-h", 42 as unknown as string)).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe("rotate and the stored record", () => {
  const secret = "R".repeat(43);
  const now = Date.now();
  const header = [now, 0, 600_000, 3_600_000].map((t) => t.toString(36)).join("|");

  it("a corrupt record is no session: SessionNotFoundError, and the record is deleted", async () => {
    const key = userKey(ctx.prefix, "rot-corrupt");
    await ctx.redis.hset(key, sessionKeyOf(secret), `2|${header}|{"not":"an array"}`);
    await ctx.redis.pexpire(key, 60_000);
    await expect(ctx.store.rotate("rot-corrupt", secret)).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await ctx.redis.exists(key)).toBe(0);
  });

  it("a resent call finding its rotated record expired says so, naming the new record (status -2 with 1)", async () => {
    const key = userKey(ctx.prefix, "rot-resent");
    const newSecret = "N".repeat(43);
    const past = Date.now() - 10_000;
    const stale = [past, 0, 5_000, 3_600_000].map((t) => t.toString(36)).join("|");
    await ctx.redis.hset(key, sessionKeyOf(newSecret), `2|${stale}|[{}]`);
    await ctx.redis.pexpire(key, 60_000);
    const { lua } = loadScripts().rotateSession;
    const args = [sessionKeyOf(secret), sessionKeyOf(newSecret), 60_000, 1_000];
    expect(await ctx.redis.eval(lua, 1, key, ...args)).toEqual([-2, past + 5_000, 1]);
    await ctx.redis.hset(key, sessionKeyOf(newSecret), `2|${header}|[{}]`);
    const [status, record] = (await ctx.redis.eval(lua, 1, key, ...args)) as [number, string];
    expect(status).toBe(0);
    expect(record).toBe(`2|${header}|[{}]`);
  });

  it("keeps body elements a later release appended, byte for byte", async () => {
    const key = userKey(ctx.prefix, "rot-later");
    const tail = '{"future": [1, 2.50]}';
    await ctx.redis.hset(key, sessionKeyOf(secret), `2|${header}|[{"a":1},"tv",null,null,null,null,${tail}]`);
    await ctx.redis.pexpire(key, 60_000);
    const rotated = await ctx.store.rotate("rot-later", secret);
    expect(rotated.session).toMatchObject({ handle: sessionKeyOf(secret).slice(0, 16), data: { a: 1 } });
    const stored = await ctx.redis.hget(key, sessionKeyOf(rotated.sessionId));
    expect(stored?.endsWith(`[{"a":1},"tv",null,null,null,"${rotated.session.handle}",${tail}]`)).toBe(true);
  });
});

describe("rotating an expired session", () => {
  it("gives SessionExpiredError, enqueues its deletion as a read does, and leaves the record as it was", async () => {
    const store = ctx.another({ idleTimeoutMs: 300, absoluteTimeoutMs: 900, touchIntervalMs: 0 });
    const created = await store.create("rot-exp");
    const before = await ctx.redis.hgetall(userKey(ctx.prefix, "rot-exp"));
    await sleep(350);
    await expect(store.rotate("rot-exp", created.sessionId)).rejects.toMatchObject({
      code: "ERR_SESSION_EXPIRED",
      expiredAt: created.session.expiresAt,
    });
    await expect(store.rotate("rot-exp", created.sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    expect(await ctx.redis.hgetall(userKey(ctx.prefix, "rot-exp"))).toEqual(before);
    const jobs = await ctx.queue.getJobs(["waiting", "delayed", "prioritized", "active"]);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.name).toBe(DELETE_EXPIRED_SESSION_JOB);
    expect(jobs[0]?.data).toEqual({
      userId: "rot-exp",
      sessionKey: sessionKeyOf(created.sessionId),
      expiresAt: created.session.expiresAt,
    });
  });
});

describe("rotate racing other calls", () => {
  it("concurrent gets of the old token never leave two live secrets for one handle, nor serve it after rotate returned", async () => {
    // touchIntervalMs 0: every get of the old token renews it by script, rewriting its field: the race to lose.
    const options = { touchIntervalMs: 0 };
    const readers = Array.from({ length: 8 }, () => ctx.another(options));
    const rotator = ctx.another(options);
    for (let round = 0; round < 10; round++) {
      const userId = `rot-race-${round}`;
      const created = await rotator.create(userId);
      await Promise.all(readers.map((reader) => reader.get(userId, created.sessionId)));
      let rotatedAt = Number.POSITIVE_INFINITY;
      let servedAfter = 0;
      let done = false;
      const violations: string[] = [];
      const unexpected: unknown[] = [];
      const watcher = (async () => {
        while (!done) {
          const fields = await storedFields(userId);
          const handles = fields.map((f) => f.handle);
          if (fields.length !== 1 || handles[0] !== created.session.handle) violations.push(JSON.stringify(fields));
        }
      })();
      const reads = readers.map(async (reader) => {
        for (let i = 0; i < 30; i++) {
          const startedAt = performance.now();
          try {
            await reader.get(userId, created.sessionId);
            if (startedAt > rotatedAt) servedAfter++;
          } catch (error) {
            if (!(error instanceof SessionNotFoundError)) unexpected.push(error);
          }
        }
      });
      let rotated: Awaited<ReturnType<SessionStore["rotate"]>>;
      try {
        await sleep(Math.random() * 5);
        rotated = await rotator.rotate(userId, created.sessionId);
        rotatedAt = performance.now();
      } finally {
        await Promise.all(reads);
        done = true;
        await watcher;
      }
      expect(unexpected).toEqual([]);
      expect(violations).toEqual([]);
      expect(servedAfter).toBe(0);
      for (const reader of readers) {
        await expect(reader.get(userId, created.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
        await expect(reader.authenticate(rotated.token)).resolves.toMatchObject({ handle: created.session.handle });
      }
      expect(await storedFields(userId)).toEqual([
        { field: sessionKeyOf(rotated.sessionId), handle: created.session.handle },
      ]);
    }
  });

  it("concurrent rotates of one session: exactly one wins, the others get SessionNotFoundError", async () => {
    const stores = Array.from({ length: 10 }, () => ctx.another());
    const created = await ctx.store.create("rot-many", { data: { x: 1 } });
    const results = await Promise.allSettled(stores.map((store) => store.rotate("rot-many", created.sessionId)));
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SessionNotFoundError);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<SessionStore["rotate"]>>>).value;
    await expect(ctx.store.authenticate(winner.token)).resolves.toMatchObject({
      handle: created.session.handle,
      data: { x: 1 },
    });
    expect(await storedFields("rot-many")).toEqual([
      { field: sessionKeyOf(winner.sessionId), handle: created.session.handle },
    ]);
  });
});

describe("rotate whose reply was lost", () => {
  it("is sent again and answers for the rotation it made, once, with the old secret gone", async () => {
    const server = await startRedisServer();
    const proxy = await startRedisFaultProxy({ host: server.host, port: server.port });
    const redis = new Redis(proxy.url, { ...SESSION_CONNECTION_OPTIONS });
    redis.on("error", () => {});
    const queueConnection = new Redis(server.url, { maxRetriesPerRequest: null, lazyConnect: true });
    queueConnection.on("error", () => {});
    const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection });
    const direct = new Redis(server.url);
    try {
      const store = new SessionStore({ redis, queue });
      const warm = await store.create("lost-rotate");
      await store.rotate("lost-rotate", warm.sessionId); // the script is cached: the swallowed reply is its own
      const created = await store.create("lost-rotate", { data: { n: 2 } });
      const swallowed = proxy.swallowNextReply((args) => args[0] === "EVALSHA" || args[0] === "EVAL");
      const rotated = await store.rotate("lost-rotate", created.sessionId);
      const [, , , , oldField, newField] = await swallowed; // EVALSHA sha numkeys key old new ...
      expect(oldField).toBe(sessionKeyOf(created.sessionId));
      expect(newField).toBe(sessionKeyOf(rotated.sessionId));
      expect(rotated.session).toMatchObject({ handle: created.session.handle, data: { n: 2 } });
      await expect(store.authenticate(rotated.token)).resolves.toMatchObject({ handle: created.session.handle });
      await expect(store.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
      expect(await direct.hlen(userKey("", "lost-rotate"))).toBe(2);
    } finally {
      redis.disconnect();
      direct.disconnect();
      await queue.close();
      queueConnection.disconnect();
      await proxy.close();
      await server.stop();
    }
  });
});

describe("rotate on a full Redis", () => {
  it("is refused as a whole with SessionBackendError: the old secret stays valid, nothing is written", async () => {
    const server = await startRedisServer({ args: ["--maxmemory-policy", "noeviction"] });
    const redis = new Redis(server.url, { ...SESSION_CONNECTION_OPTIONS });
    const queueConnection = new Redis(server.url, { maxRetriesPerRequest: null, lazyConnect: true });
    const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection });
    const direct = new Redis(server.url);
    try {
      const store = new SessionStore({ redis, queue });
      const warm = await store.create("full-rotate");
      await store.rotate("full-rotate", warm.sessionId); // the script is loaded before Redis is full
      const created = await store.create("full-rotate");
      const before = await direct.hgetall(userKey("", "full-rotate"));
      await direct.config("SET", "maxmemory", "1");
      const refused = await store.rotate("full-rotate", created.sessionId).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SessionBackendError);
      expect(((refused as Error).cause as Error).message).toMatch(/^OOM /);
      expect(await direct.hgetall(userKey("", "full-rotate"))).toEqual(before);
      await expect(store.authenticate(created.token)).resolves.toMatchObject({ handle: created.session.handle });
      await direct.config("SET", "maxmemory", "0");
      const rotated = await store.rotate("full-rotate", created.sessionId);
      await expect(store.authenticate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(store.authenticate(rotated.token)).resolves.toMatchObject({ handle: created.session.handle });
    } finally {
      redis.disconnect();
      direct.disconnect();
      await queue.close();
      queueConnection.disconnect();
      await server.stop();
    }
  });
});
