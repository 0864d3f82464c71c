/**
 * The issue's `ENOENT create-session-n.lua` case: a server that uses
 * session-core, bundled by esbuild into one file and run from a folder with
 * no node_modules beside it or above it. Logging in runs the Lua scripts, so
 * it only works if they travel inside the JavaScript.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type ServiceProcess, startService } from "@multisession/test-kit";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, inject, test } from "vitest";

const redisUrl = inject("redisUrl");
let folder = "";
let server: ServiceProcess | undefined;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "multisession-bundle-"));
  await build({
    entryPoints: [join(import.meta.dirname, "..", "fixtures", "bundled-server.ts")],
    outfile: join(folder, "server.cjs"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "error",
  });
});

afterAll(async () => {
  await server?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

test("the bundle is one file, with no node_modules in its folder or any folder above", async () => {
  expect(await readdir(folder)).toEqual(["server.cjs"]);
  for (let dir = folder; dir !== dirname(dir); dir = dirname(dir)) {
    expect({ dir, nodeModules: existsSync(join(dir, "node_modules")) }).toEqual({ dir, nodeModules: false });
  }
});

test("the bundled server logs in, authenticates and lists devices, then stops on SIGTERM", async () => {
  server = await startService(join(folder, "server.cjs"), { REDIS_URL: redisUrl }, "started");
  const login = await fetch(server.url("/sessions/bundle-user"), { method: "POST" });
  expect(login.status).toBe(201);
  const { token } = (await login.json()) as { token: string };

  const me = await fetch(server.url("/me"), { headers: { authorization: `Bearer ${token}` } });
  expect({ status: me.status, body: await me.json() }).toEqual({
    status: 200,
    body: { userId: "bundle-user", devices: 1 },
  });

  const stranger = await fetch(server.url("/me"), { headers: { authorization: "Bearer not-a-token" } });
  expect(stranger.status).toBe(400);

  expect(await server.stop("SIGTERM")).toBe(0);
  expect(server.logs.some((line) => line.msg === "stopped")).toBe(true);
  expect(server.stderr()).toBe("");
});
