/**
 * Starts a private `redis-server` from the PATH on a free loopback port and
 * stops it again. Tests use it so they never touch a shared Redis; the local
 * main job uses it (with AOF under `.data/`) when no other Redis answers.
 *
 * The server runs the way production should: `maxmemory-policy noeviction`
 * (BullMQ loses jobs otherwise). Persistence is off unless `dir` is given.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { findFreePort } from "./free-port.js";
import { pingRedis } from "./ping.js";

export interface RedisServerOptions {
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Data directory; when set, the server keeps an append-only file there. */
  dir?: string;
  /** Extra `redis-server` arguments, e.g. `["--hash-max-listpack-value", "128"]`. */
  args?: string[];
  /** How long to wait for the first PONG. */
  startTimeoutMs?: number;
  /** The environment `redis-server` is looked up (PATH) and run in. */
  env?: NodeJS.ProcessEnv;
  /**
   * Run the server in a process group of its own, so a terminal's Ctrl-C
   * reaches only the caller, which stops the server once nothing uses it.
   * @default false
   */
  detached?: boolean;
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then wait for the process to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export class RedisServerStartError extends Error {
  override name = "RedisServerStartError";
}

const HOST = "127.0.0.1";
const PORT_ATTEMPTS = 5;

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  let lastError: unknown;
  const attempts = options.port ? 1 : PORT_ATTEMPTS;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await findFreePort());
    try {
      return await launch(port, options);
    } catch (error) {
      // Another process may have taken the port between probe and bind.
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(port: number, options: RedisServerOptions): Promise<RedisServer> {
  const args = [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--save",
    "",
    "--maxmemory-policy",
    "noeviction",
    "--loglevel",
    "warning",
  ];
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    args.push("--dir", options.dir, "--appendonly", "yes");
  } else {
    args.push("--appendonly", "no");
  }
  args.push(...(options.args ?? []));

  let child: ChildProcess;
  try {
    child = spawn("redis-server", args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
      detached: options.detached ?? false,
    });
  } catch (error) {
    throw new RedisServerStartError(`could not run redis-server: ${String(error)}`);
  }
  let output = "";
  child.stdout?.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
  child.stderr?.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (error) => reject(new RedisServerStartError(`could not run redis-server: ${error.message}`))),
  );
  // Never leave an orphan behind if the parent exits without stopping us.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  const ready = (async () => {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new RedisServerStartError(`redis-server exited on port ${port}: ${output.trim()}`);
      }
      if (await pingRedis(HOST, port, 200)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill("SIGKILL");
    throw new RedisServerStartError(`redis-server did not answer on port ${port}: ${output.trim()}`);
  })();
  await Promise.race([ready, spawnError]);

  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    pid: child.pid ?? -1,
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
