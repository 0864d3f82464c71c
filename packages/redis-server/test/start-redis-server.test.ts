import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pingRedis, type RedisServer, startRedisServer } from "../src/index.js";

const started: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

describe("startRedisServer", () => {
  it("starts a private server on a free loopback port and stops it", async () => {
    const server = await startRedisServer();
    started.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(6379);
    expect(await pingRedis("127.0.0.1", server.port)).toBe(true);
    await server.stop();
    expect(await pingRedis("127.0.0.1", server.port)).toBe(false);
    await server.stop(); // twice is fine
  });

  it("two servers never share a port", async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
    started.push(a as RedisServer, b as RedisServer);
    expect(a?.port).not.toBe(b?.port);
  });

  it("keeps an append-only file in `dir` and restarts on the same port with the data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ms-redis-"));
    try {
      const first = await startRedisServer({ dir });
      const { Redis } = await import("ioredis");
      const client = new Redis(first.url);
      await client.set("kept", "yes");
      expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
      await client.quit();
      await first.stop();
      expect(readdirSync(dir).some((name) => name.startsWith("appendonly"))).toBe(true);

      const second = await startRedisServer({ dir, port: first.port });
      started.push(second);
      const again = new Redis(second.url);
      expect(await again.get("kept")).toBe("yes");
      await again.quit();
    } finally {
      await Promise.all(started.splice(0).map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("detached: runs in a process group of its own, so a terminal's Ctrl-C does not reach it", async () => {
    const processGroup = (pid: number) =>
      Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[2]);
    const [attached, detached] = await Promise.all([startRedisServer(), startRedisServer({ detached: true })]);
    started.push(attached as RedisServer, detached as RedisServer);
    expect(processGroup(attached.pid)).toBe(processGroup(process.pid));
    expect(processGroup(detached.pid)).toBe(detached.pid);
  });

  it("says why when redis-server is not on the PATH", async () => {
    await expect(startRedisServer({ env: { PATH: "/nonexistent" } })).rejects.toThrow(/could not run redis-server/);
    expect(existsSync("/nonexistent")).toBe(false);
  });
});
