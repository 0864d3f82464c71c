/**
 * The packed tarballs installed as a user installs them: an empty project,
 * `npm install` of the .tgz files plus ioredis and BullMQ from the registry
 * (npm adds the plugins' peers, e.g. fastify), nothing linked from this
 * workspace. Then a session's whole life through `import` and through
 * `require`, for session-core alone and through each plugin, against a
 * private redis-server; each script must exit by itself, which proves
 * everything it opened can be closed. TypeScript checks a consumer against
 * the installed declarations.
 */
import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
];

test.each(SMOKES)(
  "$script: $name's $build build runs a session's life against Redis",
  async ({ script, name, build, seen }) => {
    const { stdout } = await run(process.execPath, [script], {
      cwd: project,
      env: { REDIS_URL: redisUrl, SMOKE_PREFIX: `smoke-${script}:` },
      timeoutMs: 60_000,
    });
    const output = lastJsonLine(stdout);
    expect(String(output.entry)).toMatch(new RegExp(`node_modules/${name}/dist/${build}/index\\.js$`));
    expect(output).toMatchObject(seen);
  },
);

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
