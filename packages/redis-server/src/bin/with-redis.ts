#!/usr/bin/env node
/**
 * `with-redis <app-folder>...`: the main job's launcher. Finds Redis the way
 * the main job should (resolveRedis: REDIS_URL, else 127.0.0.1:6379, else a
 * private redis-server keeping its data under $MULTISESSION_DATA_DIR, by
 * default ./.data), then runs each app (`node <bin>` of its package.json, or
 * `node <main>` for an app without a bin: a publishable app's main is its
 * library, its bin the process) from its folder, with this process's
 * environment plus REDIS_URL.
 *
 * Shutdown order: on SIGINT, SIGTERM or SIGHUP every app is signalled once
 * and awaited; only then is a private Redis stopped, so no app sees Redis
 * vanish while it closes. The apps and the private Redis run in process
 * groups of their own, so a terminal's Ctrl-C reaches them only through here.
 * pnpm passes a Ctrl-C on to its script although the terminal already sent
 * it to the script's process group: a repeat within a second is that echo,
 * while a later one is passed on (and makes the apps exit at once).
 * If an app exits by itself, the others are stopped and its exit code is ours.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { NoRedisError, type ResolvedRedis, resolveRedis } from "../resolve-redis.js";

const ECHO_WINDOW_MS = 1_000;

interface App {
  name: string;
  child: ChildProcess;
  exited: Promise<number>;
}

const folders = process.argv.slice(2);
if (folders.length === 0) {
  console.error("usage: with-redis <app-folder>...   (each folder's package.json names its main)");
  process.exit(64);
}

const apps: App[] = [];
let stopping = false;
let exitCode = 0;
let lastSignalAt = 0;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    const now = Date.now();
    if (now - lastSignalAt < ECHO_WINDOW_MS) return;
    lastSignalAt = now;
    stop(signal === "SIGHUP" ? "SIGTERM" : signal);
  });
}

const dataDir = resolve(process.env.MULTISESSION_DATA_DIR || ".data");
let redis: ResolvedRedis;
try {
  redis = await resolveRedis({ dataDir, detached: true });
} catch (error) {
  console.error(error instanceof NoRedisError ? error.message : error);
  process.exit(69);
}
const where = {
  REDIS_URL: "from REDIS_URL",
  local: "already running",
  private: `started here, data in ${shortPath(join(dataDir, "redis"))}`,
};
console.log(`with-redis: Redis at ${redis.url} (${where[redis.source]})`);

// A Ctrl-C while Redis was starting: nothing else to stop.
if (!stopping) apps.push(...folders.map((folder) => startApp(folder, redis.url)));

function shortPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere.startsWith("..") || isAbsolute(fromHere) ? path : fromHere;
}

function startApp(folder: string, redisUrl: string): App {
  const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as {
    name: string;
    main: string;
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === "string" ? manifest.bin : Object.values(manifest.bin ?? {})[0];
  const child = spawn(process.execPath, [bin ?? manifest.main], {
    cwd: folder,
    env: { ...process.env, REDIS_URL: redisUrl },
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  });
  const name = manifest.name.replace(/^@[^/]+\//, "");
  const exited = new Promise<number>((done) => {
    child.once("error", (error) => {
      console.error(`with-redis: could not start ${name}: ${error.message}`);
      done(1);
    });
    child.once("exit", (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
  void exited.then((code) => {
    if (stopping) return;
    console.error(`with-redis: ${name} exited with code ${code}; stopping the others`);
    exitCode = code || 1;
    stop("SIGTERM");
  });
  return { name, child, exited };
}

function stop(signal: NodeJS.Signals): void {
  stopping = true;
  for (const app of apps) {
    if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill(signal);
  }
}

await Promise.all(apps.map((app) => app.exited));
await redis.stop();
process.exit(exitCode);
