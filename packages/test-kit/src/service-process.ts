/**
 * Runs a built multisession service (its `dist/main.js`) as a real child
 * process with JSON logs, and lets tests wait on what it logs, call its HTTP
 * endpoints and signal it. Services log `port` on their "started" line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface LogLine {
  level: number;
  msg: string;
  time: number;
  [field: string]: unknown;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  readonly stderr: () => string;
  port: number;
  url(path: string): string;
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` and resolves with the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/** Spawns `node <main>` with JSON logs on an ephemeral loopback port, plus `env`. */
export function spawnService(main: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, NODE_ENV: "production", HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let stderr = "";
  let buffered = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const text of lines) {
      if (!text.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 30, msg: text, time: Date.now() };
      }
      logs.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const service: ServiceProcess = {
    child,
    logs,
    stderr: () => stderr,
    port: 0,
    url: (path) => `http://127.0.0.1:${service.port}${path}`,
    waitForLog(match, timeoutMs = 20_000) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(-500)}`));
        }, timeoutMs);
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`process exited before a matching log line; stderr: ${stderr.slice(-500)}`));
        });
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
  return service;
}

/** Spawns a service and waits for its `startedMessage` log line, which carries its HTTP port. */
export async function startService(
  main: string,
  env: Record<string, string>,
  startedMessage: string,
): Promise<ServiceProcess> {
  const service = spawnService(main, env);
  const started = await service.waitForLog((line) => line.msg === startedMessage);
  service.port = started.port as number;
  return service;
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls `check` until it returns true. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * The file a package's bin runs, found through its package.json as npm links it: a process entry
 * (a publishable app's main is its library). `from` is the module asking (its import.meta.url), whose
 * dependencies resolve the package.
 */
export function packageBin(packageName: string, binName: string, from: string | URL): string {
  const require = createRequire(from);
  const manifest = require.resolve(`${packageName}/package.json`);
  const { bin } = require(manifest) as { bin?: Record<string, string> };
  const file = bin?.[binName];
  if (!file) throw new Error(`${packageName} has no bin named ${binName}`);
  return join(dirname(manifest), file);
}
