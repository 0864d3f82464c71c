/**
 * The packed tarballs installed as a user installs them: an empty project,
 * `npm install` of the .tgz files plus ioredis and BullMQ from the registry,
 * nothing linked from this workspace. Then a session's whole life through
 * `import` and through `require` against a private redis-server; each script
 * must exit by itself, which proves everything it opened can be closed.
 */
import { copyFile, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { PUBLISHABLE } from "./support/publishable.js";
import { run } from "./support/run.js";

const tarballs = inject("tarballs");
const redisUrl = inject("redisUrl");
const fixtures = join(import.meta.dirname, "..", "fixtures");
let project = "";

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
      dependencies: { ...local, bullmq: versionOf("bullmq"), ioredis: versionOf("ioredis") },
      // A plugin's dependency on session-core must take the tarball too, never the registry.
      overrides: local,
    }),
  );
  await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: project, timeoutMs: 280_000 });
  for (const file of ["smoke.mjs", "smoke.cjs", "exports.mjs", "exports.cjs"]) {
    await copyFile(join(fixtures, file), join(project, file));
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

test.each([
  { script: "smoke.mjs", via: "import", build: "esm" },
  { script: "smoke.cjs", via: "require", build: "cjs" },
])("through $via, the $build build creates, reads, lists and removes a session", async ({ script, via, build }) => {
  const { stdout } = await run(process.execPath, [script], {
    cwd: project,
    env: { REDIS_URL: redisUrl, SMOKE_PREFIX: `smoke-${build}:` },
    timeoutMs: 60_000,
  });
  const seen = lastJsonLine(stdout);
  expect(String(seen.entry)).toMatch(new RegExp(`node_modules/@multisession/session-core/dist/${build}/index\\.js$`));
  expect(seen).toMatchObject({
    data: { via },
    devices: ["smoke"],
    removed: 1,
    afterRemoval: "ERR_SESSION_NOT_FOUND",
  });
});

test.each(["exports.mjs", "exports.cjs"])("%s: every package loads and exports its names", async (script) => {
  const names = PUBLISHABLE.map((entry) => entry.name);
  const { stdout } = await run(process.execPath, [script, JSON.stringify(names)], { cwd: project });
  const found = lastJsonLine(stdout);
  for (const { name, exports } of PUBLISHABLE) {
    expect(found[name]).toEqual(expect.arrayContaining(exports));
  }
});
