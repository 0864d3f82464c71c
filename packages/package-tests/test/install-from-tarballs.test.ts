/**
 * The packed tarballs installed as a user installs them: an empty project,
 * `npm install` of the .tgz files plus ioredis and BullMQ from the registry
 * (npm adds the plugins' peers, e.g. fastify), nothing linked from this
 * workspace. Then a session's whole life through `import` and through
 * `require`, for session-core alone and through each plugin, and the
 * worker in-process, against a private redis-server; each script must exit
 * by itself, which proves everything it opened can be closed. The worker's
 * bin runs from the install and deletes an expired session. TypeScript
 * checks a consumer against the installed declarations.
 */
import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  CLEANUP_QUEUE_NAME,
  SESSION_CONNECTION_OPTIONS,
  SessionExpiredError,
  SessionStore,
  sessionKeyOf,
  userKey,
} from "@multisession/session-core";
import { eventually, getJson, startService } from "@multisession/test-kit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { PUBLISHABLE } from "./support/publishable.js";
import { run } from "./support/run.js";

const tarballs = inject("tarballs");
const redisUrl = inject("redisUrl");
const fixtures = join(import.meta.dirname, "..", "fixtures");
let project = "";

/** The typed consumer, three ways: an ES module and a CommonJS module under nodenext, and a .ts under commonjs. */
const TYPED_COPIES: Record<string, string> = {
  "nodenext/typed.mts": "typed.ts",
  "nodenext/typed.cts": "typed.ts",
  "commonjs/typed.ts": "typed.ts",
};
const TSC = join(import.meta.dirname, "..", "node_modules", ".bin", "tsc");

/** The version this workspace tests with, so the consumer gets the same ioredis and BullMQ. */
function versionOf(name: string): string {
  const require = createRequire(import.meta.url);
  return (require(`${name}/package.json`) as { version: string }).version;
}

function lastJsonLine(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Record<string, unknown>;
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "multisession-consumer-"));
  const local = Object.fromEntries(Object.entries(tarballs).map(([name, path]) => [name, `file:${path}`]));
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      dependencies: {
        ...local,
        bullmq: versionOf("bullmq"),
        ioredis: versionOf("ioredis"),
        "@types/node": versionOf("@types/node"),
        pino: versionOf("pino"),
      },
      // A plugin's dependency on session-core must take the tarball too, never the registry.
      overrides: local,
    }),
  );
  await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: project, timeoutMs: 280_000 });
  for (const file of ["exports.mjs", "exports.cjs", ...SMOKES.map((smoke) => smoke.script)]) {
    await copyFile(join(fixtures, file), join(project, file));
  }
  for (const [copy, source] of Object.entries(TYPED_COPIES)) {
    await mkdir(join(project, dirname(copy)), { recursive: true });
    await copyFile(join(fixtures, source), join(project, copy));
  }
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

test("every package is installed from its tarball, not linked from the workspace", async () => {
  for (const { name } of PUBLISHABLE) {
    expect(await realpath(join(project, "node_modules", name))).toBe(
      join(await realpath(project), "node_modules", name),
    );
  }
});

/** Each script's package, the build it must load, and what it must see. */
const SMOKES = [
  {
    script: "smoke.mjs",
    name: "@multisession/session-core",
    build: "esm",
    seen: { data: { via: "import" }, devices: ["smoke"], removed: 1, afterRemoval: "ERR_SESSION_NOT_FOUND" },
  },
  {
    script: "smoke.cjs",
    name: "@multisession/session-core",
    build: "cjs",
    seen: { data: { via: "require" }, devices: ["smoke"], removed: 1, afterRemoval: "ERR_SESSION_NOT_FOUND" },
  },
  ...["fastify", "express"].flatMap((plugin) =>
    ["esm", "cjs"].map((build) => ({
      script: `${plugin}-smoke.${build === "esm" ? "mjs" : "cjs"}`,
      name: `@multisession/${plugin}`,
      build,
      seen: {
        login: 200,
        me: { userId: "smoke-user" },
        devices: [true],
        removed: 1,
        after: [401, "ERR_SESSION_NOT_FOUND"],
      },
    })),
  ),
  ...["esm", "cjs"].map((build) => ({
    script: `worker-smoke.${build === "esm" ? "mjs" : "cjs"}`,
    name: "@multisession/worker",
    build,
    seen: { ready: true, swept: true, closed: true },
  })),
];

test.each(SMOKES)("$script: $name's $build build does its job against Redis", async ({ script, name, build, seen }) => {
  const { stdout } = await run(process.execPath, [script], {
    cwd: project,
    env: { REDIS_URL: redisUrl, SMOKE_PREFIX: `smoke-${script}:` },
    timeoutMs: 60_000,
  });
  const output = lastJsonLine(stdout);
  expect(String(output.entry)).toMatch(new RegExp(`node_modules/${name}/dist/${build}/index\\.js$`));
  expect(output).toMatchObject(seen);
});

test.each(["exports.mjs", "exports.cjs"])("%s: every package loads and exports its names", async (script) => {
  const names = PUBLISHABLE.map((entry) => entry.name);
  const { stdout } = await run(process.execPath, [script, JSON.stringify(names)], { cwd: project });
  const found = lastJsonLine(stdout);
  for (const { name, exports } of PUBLISHABLE) {
    expect(found[name]).toEqual(expect.arrayContaining(exports));
  }
});

test.each([
  { folder: "nodenext", module: "nodenext" },
  { folder: "commonjs", module: "commonjs" },
])(
  "TypeScript under module $module type-checks a consumer against the installed declarations",
  async ({ folder, module }) => {
    const compilerOptions = {
      module,
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ["node"],
      target: "es2023",
    };
    await writeFile(join(project, folder, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["typed.*"] }));
    // tsc exits non-zero on any error, and run() fails with its output.
    await run(TSC, ["-p", join(folder, "tsconfig.json")], { cwd: project, timeoutMs: 120_000 });
  },
);

test("the multisession-worker bin from the install deletes an expired session, answers /healthz, exits 0 on SIGTERM", async () => {
  const prefix = "bin-smoke:";
  const redis = new Redis(redisUrl, { ...SESSION_CONNECTION_OPTIONS });
  const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(CLEANUP_QUEUE_NAME, { connection: queueConnection, prefix: `${prefix}bull` });
  const store = new SessionStore({ redis, queue, prefix, idleTimeoutMs: 300, touchIntervalMs: 0 });
  // The path npm linked, as `npx multisession-worker` runs it; a yearly cron keeps the sweep out of the way.
  const worker = await startService(
    join(project, "node_modules", ".bin", "multisession-worker"),
    { REDIS_URL: redisUrl, SESSION_PREFIX: prefix, QUEUE_PREFIX: `${prefix}bull`, SWEEP_CRON: "0 0 1 1 *" },
    "worker started",
  );
  try {
    expect(await getJson(worker.url("/healthz"))).toEqual({ status: 200, body: { status: "ok" } });
    const { sessionId, session } = await store.create("bin-user");
    // Every read renews, so no read until the idle timeout has passed; that read finds it expired and
    // enqueues its deletion job, which the worker from the tarball runs.
    await eventually(() => Date.now() > session.expiresAt + 100);
    await expect(store.get("bin-user", sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    const key = userKey(prefix, "bin-user");
    await eventually(async () => (await redis.hexists(key, sessionKeyOf(sessionId))) === 0, 30_000);
    expect(await worker.stop("SIGTERM")).toBe(0);
  } finally {
    await worker.stop("SIGKILL");
    await queue.close();
    await queueConnection.quit();
    await redis.quit();
  }
});
