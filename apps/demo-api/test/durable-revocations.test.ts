/**
 * DURABLE_REVOCATION_REPLICAS end to end: the API as a real child process on
 * a private redis-server with one replica of its own. A logout answers 204
 * once the replica has it; with the replica frozen (SIGSTOP) it answers 503
 * ERR_REVOCATION_NOT_REPLICATED, and the session is gone on the primary all
 * the same.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { type ServiceProcess, startService } from "@multisession/test-kit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Answer, API_MAIN, call, errorOf } from "./support/stack.js";

let master: RedisServer;
let replica: RedisServer;
let replicaDir: string;
let api: ServiceProcess;

beforeAll(async () => {
  master = await startRedisServer();
  replicaDir = mkdtempSync(join(tmpdir(), "ms-api-replica-"));
  replica = await startRedisServer({ args: ["--replicaof", master.host, String(master.port), "--dir", replicaDir] });
  // Linked and synced: a write of our own acknowledged by the replica.
  const setup = new Redis(master.url);
  try {
    await setup.set("sync", "x");
    expect(await setup.wait(1, 10_000)).toBe(1);
  } finally {
    setup.disconnect();
  }
  api = await startService(
    API_MAIN,
    { REDIS_URL: master.url, DURABLE_REVOCATION_REPLICAS: "1", DURABLE_REVOCATION_TIMEOUT_MS: "200" },
    "api started",
  );
});

afterAll(async () => {
  await api?.stop();
  await replica?.stop();
  await master?.stop();
  if (replicaDir) rmSync(replicaDir, { recursive: true, force: true });
});

async function login(userId: string): Promise<string> {
  const { status, body } = await call(api, "POST", "/auth/login", { body: { userId, password: "demo" } });
  expect(status).toBe(200);
  return body?.token as string;
}

describe("DURABLE_REVOCATION_REPLICAS=1", () => {
  it("a logout answers 204 once the replica has it", async () => {
    const token = await login("durable-up");
    expect((await call(api, "POST", "/auth/logout", { token })).status).toBe(204);
    expect((await call(api, "GET", "/me", { token })).status).toBe(401);
  });

  it("with the replica paused, a logout answers 503 ERR_REVOCATION_NOT_REPLICATED, and the session is gone", async () => {
    const token = await login("durable-paused");
    process.kill(replica.pid, "SIGSTOP");
    let answer: Answer;
    try {
      answer = await call(api, "POST", "/auth/logout", { token });
    } finally {
      process.kill(replica.pid, "SIGCONT");
    }
    expect(answer.status).toBe(503);
    expect(errorOf(answer).code).toBe("ERR_REVOCATION_NOT_REPLICATED");
    expect(errorOf(answer).message).toMatch(/replicas did not confirm/);
    expect((await call(api, "GET", "/me", { token })).status).toBe(401);
  });
});
