/**
 * The demo as it runs for real: the worker and the API as two child
 * processes on the suite's redis-server, sharing a namespace of this test's
 * own (SESSION_PREFIX, QUEUE_PREFIX).
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { packageBin, type ServiceProcess, startService } from "@multisession/test-kit";
import { Redis } from "ioredis";

export { eventually, launchChromium } from "@multisession/test-kit";

export const API_MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
export const WORKER_MAIN = packageBin("@multisession/worker", "multisession-worker", import.meta.url);
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../test-output/", import.meta.url));
mkdirSync(SCREENSHOT_DIR, { recursive: true });

let counter = 0;

export interface Stack {
  api: ServiceProcess;
  worker: ServiceProcess;
  redis: Redis;
  prefix: string;
  url(path: string): string;
  stop(): Promise<void>;
}

export async function startStack(
  redisUrl: string,
  apiEnv: Record<string, string> = {},
  workerEnv: Record<string, string> = {},
): Promise<Stack> {
  const id = `${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const shared = { REDIS_URL: redisUrl, SESSION_PREFIX: `demo-${id}:`, QUEUE_PREFIX: `bull-${id}` };
  const [worker, api] = await Promise.all([
    startService(WORKER_MAIN, { ...shared, SWEEP_CRON: "*/2 * * * * *", ...workerEnv }, "worker started"),
    startService(API_MAIN, { ...shared, ...apiEnv }, "api started"),
  ]);
  const redis = new Redis(redisUrl);
  return {
    api,
    worker,
    redis,
    prefix: shared.SESSION_PREFIX,
    url: (path) => api.url(path),
    async stop() {
      await Promise.all([api.stop(), worker.stop()]);
      redis.disconnect();
    },
  };
}

export interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  headers: Headers;
}

/** One JSON request to the API. */
export async function call(
  stack: Pick<Stack, "url">,
  method: string,
  path: string,
  options: {
    token?: string;
    cookie?: string;
    body?: unknown;
    headers?: Record<string, string>;
    /** Aborts the request (e.g. `AbortSignal.timeout`), so that a hang fails a test. */
    signal?: AbortSignal;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(stack.url(path), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    headers: response.headers,
  };
}

/** The `{ error: { code, message } }` of an error answer. */
export function errorOf(answer: Answer): { code: string; message: string } {
  const error = (answer.body as { error?: { code: string; message: string } } | null)?.error;
  if (!error) throw new Error(`not an error answer: ${answer.status} ${JSON.stringify(answer.body)}`);
  return error;
}

export async function login(stack: Pick<Stack, "url">, userId: string, deviceName: string, userAgent: string) {
  const answer = await call(stack, "POST", "/auth/login", {
    body: { userId, password: "demo", deviceName },
    headers: { "user-agent": userAgent },
  });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as { token: string; session: { handle: string; current: boolean } } & Record<string, unknown>;
}

export const ANDROID_UA = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/130 Mobile Safari/537.36";
export const IOS_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
export const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
