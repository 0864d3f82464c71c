/**
 * The API when its Redis is frozen (SIGSTOP) or gone: requests answer 503
 * with session-core's code within the documented bound (about 2 s) instead
 * of hanging, and the API serves again soon after Redis answers, without a
 * restart. Whatever failed, the answer carries the code and a plain message;
 * Redis's text, a script's SHA or line and ioredis's messages go to the log
 * line of the request, never to the client. The API runs as a real child
 * process on a private redis-server of this file's own, which the test
 * freezes and restarts.
 */
import type { ServiceProcess } from "@multisession/test-kit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiOnPrivateRedis, startApiOnPrivateRedis } from "./support/private-redis.js";

/** The documented bound plus room for a loaded machine. */
const BOUND_MS = 3_000;

let stack: ApiOnPrivateRedis;
let api: ServiceProcess;

beforeAll(async () => {
  stack = await startApiOnPrivateRedis();
  api = stack.api;
});
afterAll(() => stack?.close());

async function request(method: string, path: string, token?: string, body?: unknown) {
  const started = performance.now();
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
    text,
    status: response.status,
    body: text ? (JSON.parse(text) as { error?: { code: string }; token?: string }) : null,
    ms: performance.now() - started,
  };
}

const login = (userId: string) => request("POST", "/auth/login", undefined, { userId, password: "demo" });

describe("Redis in trouble", () => {
  it("while Redis is frozen, requests answer 503 within the bound, and 200 right after it resumes", async () => {
    const { body } = await login("frozen-user");
    const token = body?.token as string;
    expect((await request("GET", "/me", token)).status).toBe(200);

    process.kill(stack.redis.pid, "SIGSTOP");
    let answers: Awaited<ReturnType<typeof request>>[];
    try {
      answers = await Promise.all([
        request("GET", "/me", token),
        login("frozen-user"),
        request("GET", "/sessions", token),
      ]);
    } finally {
      process.kill(stack.redis.pid, "SIGCONT");
    }
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.body?.error?.code).toMatch(/^ERR_SESSION_(BACKEND|OUTCOME_UNKNOWN)$/);
      expect(answer.ms).toBeLessThan(BOUND_MS);
    }
    const resumed = await request("GET", "/me", token);
    expect(resumed.status).toBe(200);
    expect(resumed.ms).toBeLessThan(1_000);
  });

  it("while Redis is down, requests answer 503 at once; once it is back, logins work again within about a second", async () => {
    const { body } = await login("down-user");
    const token = body?.token as string;
    await stack.redis.stop();

    const [me, again] = await Promise.all([request("GET", "/me", token), login("down-user")]);
    for (const answer of [me, again]) {
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(BOUND_MS);
    }

    await stack.restartRedis();
    const back = performance.now();
    let status = 0;
    while (status !== 200 && performance.now() - back < 5_000) {
      status = (await login("down-user")).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(200);
    expect(performance.now() - back).toBeLessThan(1_500);
  });
});

/** What no answer may carry: Redis's or ioredis's words, a script SHA, Lua. */
const INTERNALS = /redis|WRONGTYPE|ERR |script|lua|[0-9a-f]{40}|timed out|connection|retries|max(Retries|imum)/i;

describe("no internals in answers", () => {
  it("a Redis that times out: the 503 says what kind of failure it was; the log line of the request has the details", async () => {
    const token = (await login("quiet-user")).body?.token as string;
    process.kill(stack.redis.pid, "SIGSTOP");
    let answer: Awaited<ReturnType<typeof request>>;
    try {
      answer = await request("GET", "/me", token);
    } finally {
      process.kill(stack.redis.pid, "SIGCONT");
    }
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: { code: "ERR_SESSION_BACKEND", message: expect.any(String) } });
    expect(answer.text).not.toMatch(INTERNALS);
    const logged = await api.waitForLog(
      (line) => line.msg === "session store failed" && /timed out/i.test(JSON.stringify(line)),
    );
    expect(logged.reqId).toEqual(expect.any(String));
  });

  it("a script that fails inside Redis: no error text, SHA or Lua line in the answer; all of it in the log", async () => {
    const redis = new Redis(stack.redis.url);
    try {
      // A foreign writer's value where a user's session hash belongs: the create script fails inside Redis.
      await redis.set("usersession:{planted}", "not a hash");
      const answer = await login("planted");
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({
        error: { code: expect.stringMatching(/^ERR_SESSION_/), message: expect.any(String) },
      });
      expect(answer.text).not.toMatch(INTERNALS);
      const logged = await api.waitForLog(
        (line) => line.msg === "session store failed" && JSON.stringify(line).includes("WRONGTYPE"),
      );
      expect(logged.reqId).toEqual(expect.any(String));
      expect(JSON.stringify(logged)).toMatch(/[0-9a-f]{40}/);
    } finally {
      await redis.del("usersession:{planted}");
      redis.disconnect();
    }
  });

  it("a Redis that is down: ioredis's words stay in the log", async () => {
    const token = (await login("down-again")).body?.token as string;
    const logLines = api.logs.length;
    await stack.redis.stop();
    let answers: Awaited<ReturnType<typeof request>>[];
    try {
      answers = await Promise.all([request("GET", "/me", token), login("down-again")]);
    } finally {
      await stack.restartRedis();
    }
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.text).not.toMatch(INTERNALS);
    }
    const failures = api.logs.slice(logLines).filter((line) => line.msg === "session store failed");
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const line of failures) expect(JSON.stringify(line.err)).toMatch(/connection|retries|closed/i);
  });
});
