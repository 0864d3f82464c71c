import { Cluster, type Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionExpiredError, userKey } from "../../src/index.js";
import { decodeRecord } from "../../src/record.js";
import { ALL_SLOTS } from "../support/slots.js";
import { openStore, type StoreContext, sleep } from "../support/store-context.js";

/**
 * Every key and value in the database (on a cluster, on every master), as text: strings, hashes,
 * sets, sorted sets, lists and streams.
 */
async function dumpEverything(client: Redis | Cluster): Promise<string> {
  const parts: string[] = [];
  for (const redis of client instanceof Cluster ? client.nodes("master") : [client]) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", "500");
      cursor = next;
      for (const key of keys) {
        parts.push(key);
        const type = await redis.type(key);
        if (type === "string") parts.push((await redis.get(key)) ?? "");
        else if (type === "hash") parts.push(...(await redis.hgetall(key).then((h) => Object.entries(h).flat())));
        else if (type === "zset") parts.push(...(await redis.zrange(key, "0", "-1")));
        else if (type === "set") parts.push(...(await redis.smembers(key)));
        else if (type === "list") parts.push(...(await redis.lrange(key, 0, -1)));
        else if (type === "stream") parts.push(JSON.stringify(await redis.xrange(key, "-", "+")));
      }
    } while (cursor !== "0");
  }
  return parts.join("\n");
}

let ctx: StoreContext;
const secrets: string[] = [];
const tokens: string[] = [];
const users = Array.from({ length: 12 }, (_, i) => `sec-user-${i}`);

beforeAll(async () => {
  ctx = await openStore({ idleTimeoutMs: 400, touchIntervalMs: 0, maxSessionsPerUser: 3 });
  // A run that exercises every path that writes: creates (with evictions), reads, renewals,
  // user info, revocations, removals, expired reads that enqueue jobs, and a sweep.
  for (const userId of users) {
    for (let i = 0; i < 4; i++) {
      const created = await ctx.store.create(userId, { data: { i }, device: { name: `device ${i}` } });
      secrets.push(created.sessionId);
      tokens.push(created.token);
    }
  }
  for (const token of tokens) await ctx.store.authenticate(token).catch(() => {});
  const live = await ctx.store.list(users[0] as string);
  await ctx.store.revoke(users[0] as string, live[0]?.handle as string);
  await ctx.store.setUserInfo(users[1] as string, secrets[7] as string, { name: "Uma" });
  await ctx.store.remove(users[2] as string, secrets[11] as string);
  await sleep(450);
  for (const token of tokens.slice(0, 20)) {
    await expect(ctx.store.authenticate(token)).rejects.toBeInstanceOf(Error);
  }
  // A partial sweep, as a worker cut short by its time budget leaves it: five of the due slots.
  const due = await ctx.store.findDueSlots(ALL_SLOTS);
  expect(due.length).toBeGreaterThan(5);
  for (const slot of due.slice(0, 5)) expect((await ctx.store.sweepSlot(slot, 5)).usersCleaned).toBeGreaterThan(0);
  for (let i = 0; i < 6; i++) {
    const created = await ctx.store.create(users[i] as string);
    secrets.push(created.sessionId);
    tokens.push(created.token);
  }
});
afterAll(() => ctx.close());

describe("what Redis, jobs and logs hold", () => {
  it("no secret or token is anywhere in Redis: every key and value scanned", async () => {
    const dump = await dumpEverything(ctx.redis);
    expect(dump).toContain(ctx.prefix); // the scan did see our keys
    expect(dump).toContain(`${ctx.prefix}usersession-activity:{`); // and the activity shards
    expect(dump).toContain("delete-expired-session"); // and the queue's jobs
    for (const secret of secrets) expect(dump).not.toContain(secret);
    for (const token of tokens) expect(dump).not.toContain(token);
  });

  it("no secret or token is in a log line", () => {
    const logged = JSON.stringify(ctx.logs);
    expect(ctx.logs.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(logged).not.toContain(secret);
  });

  it("no secret is in an error message", async () => {
    const { sessionId, token } = await ctx.store.create("err-user");
    await sleep(450);
    const errors = await Promise.all([
      ctx.store.authenticate(token).catch((e: Error) => e),
      ctx.store.get("err-user", sessionId).catch((e: Error) => e),
      ctx.store.authenticate(`${token}!`).catch((e: Error) => e),
    ]);
    expect(errors[0]).toBeInstanceOf(SessionExpiredError);
    for (const error of errors) {
      expect(`${(error as Error).message} ${(error as Error).stack}`).not.toContain(sessionId);
    }
  });

  it("every session key has a TTL that covers its latest-expiring session", async () => {
    const keys = await ctx.redis.keys(`${ctx.prefix}usersession:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const expireTime = await ctx.redis.pexpiretime(key);
      expect(expireTime, key).toBeGreaterThan(0);
      const latest = Math.max(
        ...(await ctx.redis
          .hgetall(key)
          .then((fields) =>
            Object.entries(fields).map(([field, value]) => decodeRecord(field, "any", value, null)?.expiresAt ?? 0),
          )),
      );
      expect(expireTime, key).toBeGreaterThanOrEqual(latest + ctx.store.settings.keyGraceMs);
    }
    expect(keys).toContain(userKey(ctx.prefix, users[5] as string));
  });
});
