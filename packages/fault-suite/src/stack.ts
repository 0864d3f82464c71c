/**
 * The real processes a scenario injects faults into: a private redis-server
 * (optionally with an append-only file fsynced on every write, so it can be
 * killed and restarted from it on the same port), the built worker and demo
 * API as child processes (never restarted by the suite: they must recover by
 * themselves), and the suite's own connections, with session-core's shipped
 * connection options for the library clients.
 *
 * Everything listens on 127.0.0.1 and is stopped by `close`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import {
  CLEANUP_QUEUE_NAME,
  SESSION_CONNECTION_OPTIONS,
  SessionStore,
  type SessionStoreOptions,
} from "@multisession/session-core";
import { packageBin, type ServiceProcess, startService } from "@multisession/test-kit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

const require = createRequire(import.meta.url);
/** The built apps (`pnpm build` first; the package's test task depends on their build). */
export const WORKER_MAIN = packageBin("@multisession/worker", "multisession-worker", import.meta.url);
export const API_MAIN = require.resolve("@multisession/demo-api");

export interface RedisOptions {
  /** Keep an append-only file fsynced on every write, in a directory of the scenario's own. */
  aof?: boolean;
  /** Extra redis-server arguments (e.g. `--maxmemory`). */
  args?: string[];
}

/**
 * One redis-server the scenario owns, which it may kill (SIGKILL), freeze
 * (SIGSTOP) and restart on the same port from the same directory.
 */
export class FaultyRedis {
  #server: RedisServer;
  readonly #dir: string | undefined;
  readonly #args: string[];

  private constructor(server: RedisServer, dir: string | undefined, args: string[]) {
    this.#server = server;
    this.#dir = dir;
    this.#args = args;
  }

  static async start(options: RedisOptions = {}): Promise<FaultyRedis> {
    const dir = options.aof ? mkdtempSync(join(tmpdir(), "multisession-faults-")) : undefined;
    const args = [...(options.aof ? ["--appendfsync", "always"] : []), ...(options.args ?? [])];
    const server = await startRedisServer({ dir, args });
    return new FaultyRedis(server, dir, args);
  }

  get url(): string {
    return this.#server.url;
  }
  get host(): string {
    return this.#server.host;
  }
  get port(): number {
    return this.#server.port;
  }

  /** `kill -9`: no shutdown, no final fsync. Resolves once the process is gone. */
  async kill(): Promise<void> {
    signal(this.#server.pid, "SIGKILL");
    await this.#server.stop();
  }

  /** Starts a new redis-server on the same port and directory; resolves once it answers PING (AOF loaded). */
  async restart(): Promise<void> {
    this.#server = await startRedisServer({ port: this.#server.port, dir: this.#dir, args: this.#args });
  }

  pause(): void {
    signal(this.#server.pid, "SIGSTOP");
  }

  resume(): void {
    signal(this.#server.pid, "SIGCONT");
  }

  async stop(): Promise<void> {
    this.resume();
    await this.#server.stop();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Where one scenario keeps its keys: a session prefix and a BullMQ prefix of its own. */
export interface Namespace {
  sessionPrefix: string;
  queuePrefix: string;
}

export function namespaceFor(scenario: string): Namespace {
  const id = `${scenario}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return { sessionPrefix: `faults-${id}:`, queuePrefix: `bull-${id}` };
}

function appEnv(redisUrl: string, namespace: Namespace, env: Record<string, string>): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    SESSION_PREFIX: namespace.sessionPrefix,
    QUEUE_PREFIX: namespace.queuePrefix,
    LOG_LEVEL: "info",
    ...env,
  };
}

export function startWorker(redisUrl: string, namespace: Namespace, env: Record<string, string> = {}) {
  return startService(
    WORKER_MAIN,
    appEnv(redisUrl, namespace, { SWEEP_CRON: "*/2 * * * * *", ...env }),
    "worker started",
  );
}

/**
 * The load logs the same few users in again and again from one address: far
 * past the API's guessing limits, which are not what these scenarios test.
 */
const LOAD_THROTTLE_LIMITS = {
  THROTTLE_LOGINS_PER_USER: "1000000",
  THROTTLE_LOGIN_FAILURES_PER_ADDRESS: "1000000",
  THROTTLE_TOKEN_FAILURES_PER_ADDRESS: "1000000",
};

export function startApi(redisUrl: string, namespace: Namespace, env: Record<string, string> = {}) {
  return startService(API_MAIN, appEnv(redisUrl, namespace, { ...LOAD_THROTTLE_LIMITS, ...env }), "api started");
}

/** Starts the worker and the API; if either fails, stops what did start and Redis, and rethrows. */
export async function startApps(
  redis: FaultyRedis,
  namespace: Namespace,
): Promise<[worker: ServiceProcess, api: ServiceProcess]> {
  const started = await Promise.allSettled([startWorker(redis.url, namespace), startApi(redis.url, namespace)]);
  const [worker, api] = started;
  if (worker.status === "fulfilled" && api.status === "fulfilled") return [worker.value, api.value];
  await Promise.all(started.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)));
  await redis.stop();
  throw (started.find((result) => result.status === "rejected") as PromiseRejectedResult).reason;
}

/** True while the child process has not exited. */
export function isRunning(service: ServiceProcess): boolean {
  return service.child.exitCode === null && service.child.signalCode === null;
}

/**
 * What an API server embedding the library holds: one session connection
 * with the options session-core ships, one BullMQ queue connection, a store.
 */
export interface LibraryClient {
  store: SessionStore;
  redis: Redis;
  queue: Queue;
  close(): Promise<void>;
}

export function connectLibrary(
  url: string,
  namespace: Namespace,
  options: Omit<SessionStoreOptions, "redis" | "queue" | "prefix"> = {},
  queueUrl = url,
): LibraryClient {
  const redis = new Redis(url, { ...SESSION_CONNECTION_OPTIONS, connectionName: "fault-suite:sessions" });
  redis.on("error", () => {});
  const queueConnection = new Redis(queueUrl, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  queueConnection.on("error", () => {});
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: namespace.queuePrefix });
  queue.on("error", () => {});
  const store = new SessionStore({ redis, queue, prefix: namespace.sessionPrefix, ...options });
  return {
    store,
    redis,
    queue,
    async close() {
      await queue.close().catch(() => {});
      redis.disconnect();
      queueConnection.disconnect();
    },
  };
}

/** A plain connection for reading the truth (and, in redis-full, filling memory). */
export function connectDirect(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, retryStrategy: () => 100 });
  redis.on("error", () => {});
  return redis;
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves with whether it did. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** GET a JSON endpoint of a child service; status 0 when it does not answer within `timeoutMs`. */
export async function httpStatus(url: string, timeoutMs = 3_000): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
