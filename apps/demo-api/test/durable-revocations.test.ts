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
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { type ServiceProcess, startService } from "@multisession/test-kit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const API_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

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

async function request(method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(api.url(path), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as { error?: { code: string; message: string }; token?: string }) : null,
  };
}

async function login(userId: string): Promise<string> {
  const { status, body } = await request("POST", "/auth/login", undefined, { userId, password: "demo" });
  expect(status).toBe(200);
  return body?.token as string;
}

describe("DURABLE_REVOCATION_REPLICAS=1", () => {
  it("a logout answers 204 once the replica has it", async () => {
    const token = await login("durable-up");
    expect((await request("POST", "/auth/logout", token)).status).toBe(204);
    expect((await request("GET", "/me", token)).status).toBe(401);
  });

  it("with the replica paused, a logout answers 503 ERR_REVOCATION_NOT_REPLICATED, and the session is gone", async () => {
    const token = await login("durable-paused");
    process.kill(replica.pid, "SIGSTOP");
    let answer: Awaited<ReturnType<typeof request>>;
    try {
      answer = await request("POST", "/auth/logout", token);
    } finally {
      process.kill(replica.pid, "SIGCONT");
    }
    expect(answer.status).toBe(503);
    expect(answer.body?.error?.code).toBe("ERR_REVOCATION_NOT_REPLICATED");
    expect(answer.body?.error?.message).toMatch(/replicas did not confirm/);
    expect((await request("GET", "/me", token)).status).toBe(401);
  });
});
