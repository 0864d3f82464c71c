/**
 * GET /readyz reflects Redis: ready while both of the API's connections
 * (session data and the BullMQ queue) answer PING, 503 naming the failed
 * checks while Redis is frozen or gone, ready again once it is back. The API
 * runs as a real child process on a private redis-server of this file's own.
 */
import { eventually, type ServiceProcess } from "@multisession/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiOnPrivateRedis, startApiOnPrivateRedis } from "./support/private-redis.js";

let stack: ApiOnPrivateRedis;
let api: ServiceProcess;

beforeAll(async () => {
  stack = await startApiOnPrivateRedis();
  api = stack.api;
});
afterAll(() => stack?.close());

async function readyz() {
  const response = await fetch(api.url("/readyz"));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("GET /readyz", () => {
  it("answers 200 with both checks passed while Redis answers, and logs no line per probe", async () => {
    await eventually(async () => (await readyz()).status === 200);
    expect(await readyz()).toEqual({ status: 200, body: { status: "ready", redis: true, queue: true } });
    await fetch(api.url("/healthz"));
    const marker = await fetch(api.url("/no-such-route")); // a request that is logged, after the probes
    expect(marker.status).toBe(404);
    await api.waitForLog((line) => (line.req as { url?: string } | undefined)?.url === "/no-such-route");
    const probeLines = api.logs.filter((line) => /\/(readyz|healthz)/.test(JSON.stringify(line)));
    expect(probeLines).toEqual([]);
  });

  it("answers 503 naming both checks while Redis is frozen", async () => {
    process.kill(stack.redis.pid, "SIGSTOP");
    try {
      expect(await readyz()).toEqual({ status: 503, body: { status: "not ready", redis: false, queue: false } });
    } finally {
      process.kill(stack.redis.pid, "SIGCONT");
    }
    await eventually(async () => (await readyz()).status === 200);
  });

  it("answers 503 once Redis is stopped, and 200 again once it is back on its port", async () => {
    await stack.redis.stop();
    await eventually(async () => (await readyz()).status === 503);
    expect(await readyz()).toEqual({ status: 503, body: { status: "not ready", redis: false, queue: false } });

    await stack.restartRedis();
    await eventually(async () => (await readyz()).status === 200);
    expect((await readyz()).body).toEqual({ status: "ready", redis: true, queue: true });
  });
});
