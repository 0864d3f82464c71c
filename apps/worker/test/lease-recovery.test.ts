/**
 * A lease this replica could not release (Redis was away when its sweep
 * ended) is its own: it releases it once Redis is back, rather than waiting
 * out the lease time like a stranger's. Redis keeps its data here (AOF), so
 * the unreleased lease is still there after the restart, as in production.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SweepLease } from "../src/sweeper/lease.js";

const LEASE_MS = 60_000;
let dir: string;
let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ms-lease-"));
  redis = await startRedisServer({ dir });
  client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on("error", () => {}); // refused connections while Redis is stopped, on purpose
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the sweep lease after an outage", () => {
  it("is released by its own holder once Redis is back, so the next tick sweeps at once", async () => {
    const lease = new SweepLease({
      redis: client,
      prefix: "recovery:",
      leaseMs: LEASE_MS,
      logger: pino({ level: "silent" }),
    });
    expect(await lease.shouldRun("tick-1")).toBe(true);

    await redis.stop();
    await expect(lease.onComplete()).rejects.toThrow();
    expect(lease.held).toBe(false);

    redis = await startRedisServer({ dir, port: redis.port });
    await new Promise((resolve) => client.once("ready", resolve));
    expect(await client.exists("recovery:{usersession-sweeper}:lease")).toBe(1);
    expect(await lease.shouldRun("tick-2")).toBe(true);
    await lease.onComplete();
    expect(await client.exists("recovery:{usersession-sweeper}:lease")).toBe(0);
  });

  it("is not taken from another holder: a stranger's lease still blocks until it ends", async () => {
    const holder = new SweepLease({
      redis: client,
      prefix: "stranger:",
      leaseMs: LEASE_MS,
      logger: pino({ level: "silent" }),
    });
    const other = new SweepLease({
      redis: client,
      prefix: "stranger:",
      leaseMs: LEASE_MS,
      logger: pino({ level: "silent" }),
    });
    expect(await holder.shouldRun("tick-1")).toBe(true);
    expect(await other.shouldRun("tick-2")).toBe(false);
    await holder.onComplete();
    expect(await other.shouldRun("tick-3")).toBe(true);
    await other.onComplete();
  });
});
