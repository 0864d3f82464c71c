import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findFreePort,
  NoRedisError,
  pingRedis,
  type RedisServer,
  resolveRedis,
  startRedisServer,
} from "../src/index.js";

let dataDir: string;
let local: RedisServer;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "ms-resolve-"));
  local = await startRedisServer();
});
afterAll(async () => {
  await local.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("resolveRedis, in order", () => {
  it("1. REDIS_URL when set", async () => {
    const found = await resolveRedis({
      dataDir,
      env: { REDIS_URL: "redis://example.invalid:1234" },
      localPort: local.port,
    });
    expect(found).toMatchObject({ url: "redis://example.invalid:1234", source: "REDIS_URL" });
  });

  it("2. else the local Redis when it answers", async () => {
    const found = await resolveRedis({ dataDir, env: { PATH: process.env.PATH }, localPort: local.port });
    expect(found).toMatchObject({ url: `redis://127.0.0.1:${local.port}`, source: "local" });
    await found.stop(); // not ours: must not stop it
    expect(await pingRedis("127.0.0.1", local.port)).toBe(true);
  });

  it("3. else a private redis-server keeping its data under dataDir", async () => {
    const deadPort = await findFreePort();
    const found = await resolveRedis({ dataDir, env: { PATH: process.env.PATH }, localPort: deadPort });
    try {
      expect(found.source).toBe("private");
      expect(await pingRedis("127.0.0.1", Number(new URL(found.url).port))).toBe(true);
      expect(readdirSync(join(dataDir, "redis")).length).toBeGreaterThan(0);
    } finally {
      await found.stop();
    }
  });

  it("4. else one clear message on how to get one", async () => {
    const deadPort = await findFreePort();
    const attempt = resolveRedis({ dataDir, env: { PATH: "/nonexistent" }, localPort: deadPort });
    await expect(attempt).rejects.toBeInstanceOf(NoRedisError);
    await expect(attempt).rejects.toThrow(/REDIS_URL is not set.*apt-get install redis-server.*REDIS_URL=redis:\/\//s);
  });
});
