/**
 * Throttling across processes: two API processes on one private Redis share
 * their counters. Each test plays its own client address (127.0.0.x), so
 * per-address counters stay apart; login attempts per user id, failed logins
 * per address and failed token authentications per address are each limited,
 * answered 429 ERR_TOO_MANY_ATTEMPTS with Retry-After, and lifted when the
 * window passes.
 */
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { type ServiceProcess, spawnService, startService } from "@multisession/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AddressedAnswer, callFrom } from "./support/from-address.js";

const API_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const WINDOW_S = 60;
const LIMITS = {
  THROTTLE_WINDOW_MS: String(WINDOW_S * 1000),
  THROTTLE_LOGINS_PER_USER: "4",
  THROTTLE_LOGIN_FAILURES_PER_ADDRESS: "10",
  THROTTLE_TOKEN_FAILURES_PER_ADDRESS: "6",
};

let redis: RedisServer;
let apis: ServiceProcess[] = [];

async function startPair(env: Record<string, string>): Promise<ServiceProcess[]> {
  const shared = {
    REDIS_URL: redis.url,
    SESSION_PREFIX: `throttle-${Math.random().toString(36).slice(2, 8)}:`,
    ...env,
  };
  return Promise.all([startService(API_MAIN, shared, "api started"), startService(API_MAIN, shared, "api started")]);
}

beforeAll(async () => {
  redis = await startRedisServer();
  apis = await startPair(LIMITS);
});
afterAll(async () => {
  await Promise.all(apis.map((api) => api.stop()));
  await redis?.stop();
});

/** The i-th request goes to process i % 2, so attempts alternate between the two. */
function login(pair: ServiceProcess[], i: number, from: string, userId: string, password: string) {
  const api = pair[i % pair.length] as ServiceProcess;
  return callFrom(from, api.url("/auth/login"), "POST", { body: { userId, password } });
}

function expectThrottled(answer: AddressedAnswer, windowS = WINDOW_S) {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({ error: { code: "ERR_TOO_MANY_ATTEMPTS", message: expect.any(String) } });
  const retryAfter = Number(answer.headers["retry-after"]);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowS);
  return retryAfter;
}

describe("login attempts per user id", () => {
  it("count over both processes; past the limit even the correct password gets 429 with Retry-After", async () => {
    const from = "127.0.0.2";
    for (let i = 0; i < 4; i++) {
      expect((await login(apis, i, from, "victim", `guess-${i}`)).status).toBe(401);
    }
    expectThrottled(await login(apis, 4, from, "victim", "guess-4"));
    expectThrottled(await login(apis, 5, from, "victim", "demo"));
    // Another user id from the same address is not held back by this one's limit.
    expect((await login(apis, 6, from, "bystander", "demo")).status).toBe(200);
  });

  it("a success resets nothing: the attempts before it still count", async () => {
    const from = "127.0.0.3";
    for (let i = 0; i < 3; i++) {
      expect((await login(apis, i, from, "owner", `guess-${i}`)).status).toBe(401);
    }
    expect((await login(apis, 3, from, "owner", "demo")).status).toBe(200);
    expectThrottled(await login(apis, 4, from, "owner", "demo"));
  });

  it("hold for the user id whatever address the attempts come from", async () => {
    for (let i = 0; i < 4; i++) {
      expect((await login(apis, i, `127.0.1.${i + 1}`, "spread", `guess-${i}`)).status).toBe(401);
    }
    expectThrottled(await login(apis, 4, "127.0.1.9", "spread", "demo"));
  });
});

describe("failed logins per client address", () => {
  it("count over both processes and many user ids; past the limit the address gets 429, other addresses do not", async () => {
    const from = "127.0.0.4";
    for (let i = 0; i < 10; i++) {
      expect((await login(apis, i, from, `sprayed-${i}`, "123456")).status).toBe(401);
    }
    expectThrottled(await login(apis, 10, from, "fresh-user", "demo"));
    expect((await login(apis, 11, "127.0.0.5", "fresh-user", "demo")).status).toBe(200);
  });

  it("successes from a busy address are not counted", async () => {
    const from = "127.0.0.6";
    for (let i = 0; i < 12; i++) {
      expect((await login(apis, i, from, `office-${i}`, "demo")).status).toBe(200);
    }
  });
});

describe("failed token authentications per client address", () => {
  it("count over both processes; past the limit even a valid token gets 429 from that address", async () => {
    const from = "127.0.0.7";
    const valid = (await login(apis, 0, "127.0.0.8", "token-owner", "demo")).body.token as string;
    const forged = `${valid.slice(0, -4)}AAAA`;
    for (let i = 0; i < 6; i++) {
      const api = apis[i % 2] as ServiceProcess;
      const answer = await callFrom(from, api.url("/me"), "GET", { token: i % 3 === 0 ? "garbage" : forged });
      expect(answer.status).toBe(401);
    }
    for (const api of apis) {
      expectThrottled(await callFrom(from, api.url("/me"), "GET", { token: valid }));
      expectThrottled(await callFrom(from, api.url("/sessions"), "GET", { token: forged }));
    }
    expect((await callFrom("127.0.0.8", (apis[1] as ServiceProcess).url("/me"), "GET", { token: valid })).status).toBe(
      200,
    );
  });

  it("a login reads no token: one sent with it is neither counted nor refused at the limit", async () => {
    const from = "127.0.0.10";
    const valid = (await login(apis, 0, "127.0.0.11", "token-keeper", "demo")).body.token as string;
    const forged = `${valid.slice(0, -4)}AAAA`;
    const logIn = (i: number) =>
      callFrom(from, (apis[i % 2] as ServiceProcess).url("/auth/login"), "POST", {
        body: { userId: `carrier-${i}`, password: "demo" },
        token: forged,
      });
    // More logins carrying a forged token than the address may have tokens refused: none of them counts.
    for (let i = 0; i < 7; i++) expect((await logIn(i)).status).toBe(200);
    expect((await callFrom(from, (apis[0] as ServiceProcess).url("/me"), "GET", { token: valid })).status).toBe(200);
    // At the limit, token checks are refused from this address; logging in still works.
    for (let i = 0; i < 6; i++) {
      const answer = await callFrom(from, (apis[i % 2] as ServiceProcess).url("/me"), "GET", { token: forged });
      expect(answer.status).toBe(401);
    }
    expectThrottled(await callFrom(from, (apis[1] as ServiceProcess).url("/me"), "GET", { token: valid }));
    expect((await logIn(7)).status).toBe(200);
  });
});

describe("the window", () => {
  it("passes: after Retry-After the correct password works again", async () => {
    const short = await startPair({ ...LIMITS, THROTTLE_WINDOW_MS: "3000", THROTTLE_LOGINS_PER_USER: "2" });
    try {
      const from = "127.0.0.9";
      expect((await login(short, 0, from, "patient", "wrong")).status).toBe(401);
      expect((await login(short, 1, from, "patient", "wrong")).status).toBe(401);
      const retryAfter = expectThrottled(await login(short, 2, from, "patient", "demo"), 3);
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
      expect((await login(short, 3, from, "patient", "demo")).status).toBe(200);
    } finally {
      await Promise.all(short.map((api) => api.stop()));
    }
  });
});

describe("configuration", () => {
  it("a bad limit stops start-up with one line naming the variable, exit code 78", async () => {
    const api = spawnService(API_MAIN, { REDIS_URL: redis.url, THROTTLE_LOGINS_PER_USER: "0" });
    expect(await api.exited).toBe(78);
    expect(api.stderr()).toMatch(/invalid configuration: THROTTLE_LOGINS_PER_USER must be an integer from 1/);
  });
});
