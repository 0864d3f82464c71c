/**
 * The group leases on their own, against a real redis-server. A lease this
 * replica could not release (Redis was away when its group's sweep ended) is
 * its own: it releases it once Redis is back, rather than waiting out the
 * lease time like a stranger's. Redis keeps its data here (AOF), so the
 * unreleased lease is still there after the restart, as in production.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SweepLease } from "../src/sweeper/lease.js";
import { eventually } from "./support/worker.js";

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

const leaseOn = (prefix: string, leaseMs = LEASE_MS) =>
  new SweepLease({ redis: client, prefix, groups: 16, leaseMs, logger: pino({ level: "silent" }) });

describe("the group leases after an outage", () => {
  it("a lease left by a failed release is released by its own holder once Redis is back", async () => {
    const lease = leaseOn("recovery:");
    expect(await lease.acquire(3, "tick-1")).toBe(true);

    await redis.stop();
    await expect(lease.release(3)).rejects.toThrow();
    expect(lease.holds(3)).toBe(false);

    redis = await startRedisServer({ dir, port: redis.port });
    await new Promise((resolve) => client.once("ready", resolve));
    expect(await client.exists("recovery:{usersession-sweeper}:lease:3")).toBe(1);
    // A stranger still finds the group taken; its own holder releases its leftover and takes it at once.
    expect(await leaseOn("recovery:").acquire(3, "tick-2")).toBe(false);
    expect(await lease.acquire(3, "tick-2")).toBe(true);
    await lease.release(3);
    expect(await client.exists("recovery:{usersession-sweeper}:lease:3")).toBe(0);
  });

  it("is not taken from another holder: a stranger's lease still blocks its group, and only it, until it ends", async () => {
    const holder = leaseOn("stranger:");
    const other = leaseOn("stranger:");
    expect(await holder.acquire(0, "tick-1")).toBe(true);
    expect(await other.acquire(0, "tick-2")).toBe(false);
    expect(await other.acquire(1, "tick-2")).toBe(true);
    await holder.release(0);
    expect(await other.acquire(0, "tick-3")).toBe(true);
    await other.releaseAll();
    expect(other.held).toBe(false);
    expect(await client.keys("stranger:{usersession-sweeper}:lease:*")).toEqual([]);
  });
});

describe("the group leases", () => {
  it("give each group once per tick: after its release, a group is not given again in the same tick", async () => {
    const a = leaseOn("per-tick:");
    const b = leaseOn("per-tick:");
    expect(await a.acquire(5, "tick-1")).toBe(true);
    await a.release(5);
    expect(await b.acquire(5, "tick-1")).toBe(false);
    expect(await a.acquire(5, "tick-1")).toBe(false);
    expect(await b.acquire(6, "tick-1")).toBe(true);
    expect(await b.acquire(5, "tick-2")).toBe(true);
    await b.releaseAll();
  });

  it("a renewal that finds the lease gone drops it, so that group's sweep stops", async () => {
    const changes: boolean[] = [];
    const lease = new SweepLease({
      redis: client,
      prefix: "lost:",
      groups: 16,
      leaseMs: 1_000,
      logger: pino({ level: "silent" }),
      onChange: (held) => changes.push(held),
    });
    expect(await lease.acquire(2, "tick-1")).toBe(true);
    expect(await lease.acquire(9, "tick-1")).toBe(true);
    // Renewed while held: still there well past the first lease time.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await client.exists("lost:{usersession-sweeper}:lease:2")).toBe(1);
    await client.set("lost:{usersession-sweeper}:lease:2", "someone else", "PX", 60_000);
    await eventually(() => !lease.holds(2), 5_000);
    expect(lease.holds(9)).toBe(true);
    expect(await client.get("lost:{usersession-sweeper}:lease:2")).toBe("someone else");
    await lease.release(9);
    expect(changes).toEqual([true, false]);
  });

  it("keep every key under one hash tag", async () => {
    const lease = leaseOn("tagged:");
    expect(await lease.acquire(7, "tick-1")).toBe(true);
    expect(await lease.markSweepStart(7)).toBeNull();
    const keys = await client.keys("tagged:*");
    expect(keys.sort()).toEqual([
      "tagged:{usersession-sweeper}:lease:7",
      "tagged:{usersession-sweeper}:running:7",
      "tagged:{usersession-sweeper}:tick:7:tick-1",
    ]);
    await lease.clearSweepMark(7);
    await lease.release(7);
  });
});
