/**
 * The built demo API (and, when asked, the worker) as real child processes
 * on a private redis-server, with JSON logs kept for scanning, and a small
 * JSON client.
 */
import { createRequire } from "node:module";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { packageBin, type ServiceProcess, startService } from "@multisession/test-kit";

const require = createRequire(import.meta.url);
const API_MAIN = require.resolve("@multisession/demo-api");
const WORKER_MAIN = packageBin("@multisession/worker", "multisession-worker", import.meta.url);

/** Throttling far above what a test sends, so hostile requests never lock the test's own users out. */
const NO_THROTTLE = {
  THROTTLE_LOGINS_PER_USER: "1000000",
  THROTTLE_LOGIN_FAILURES_PER_ADDRESS: "1000000",
  THROTTLE_TOKEN_FAILURES_PER_ADDRESS: "1000000",
};

export interface Apps {
  redis: RedisServer;
  api: ServiceProcess;
  worker: ServiceProcess | undefined;
  sessionPrefix: string;
  queuePrefix: string;
  close(): Promise<void>;
}

export async function startApps(
  options: { worker?: boolean; apiEnv?: Record<string, string>; workerEnv?: Record<string, string> } = {},
): Promise<Apps> {
  const redis = await startRedisServer();
  const sessionPrefix = `attack-http-${process.pid}:`;
  const queuePrefix = `bull-attack-http-${process.pid}`;
  const shared = { REDIS_URL: redis.url, SESSION_PREFIX: sessionPrefix, QUEUE_PREFIX: queuePrefix, LOG_LEVEL: "debug" };
  const started = await Promise.allSettled([
    startService(API_MAIN, { ...shared, ...NO_THROTTLE, ...options.apiEnv }, "api started"),
    options.worker ? startService(WORKER_MAIN, { ...shared, ...options.workerEnv }, "worker started") : undefined,
  ]);
  const [api, worker] = started.map((result) => (result.status === "fulfilled" ? result.value : undefined));
  const close = async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis.stop();
  };
  const failed = started.find((result) => result.status === "rejected");
  if (failed || !api) {
    await close();
    throw (failed as PromiseRejectedResult).reason;
  }
  return { redis, api, worker, sessionPrefix, queuePrefix, close };
}

export interface Answer {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

export async function request(
  api: ServiceProcess,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await fetch(api.url(path), { method, headers: options.headers, body: options.body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

export async function login(api: ServiceProcess, userId: string): Promise<{ token: string; handle: string }> {
  const answer = await request(api, "POST", "/auth/login", {
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId, password: "demo" }),
  });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${answer.text}`);
  const body = answer.json as { token: string; session: { handle: string } };
  return { token: body.token, handle: body.session.handle };
}

/** An error answer in the documented shape, `{ "error": { "code", "message" } }`; returns the code. */
export function errorCodeOf(answer: Answer): string | undefined {
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === "string" && typeof error.message === "string") return error.code;
  return undefined;
}
