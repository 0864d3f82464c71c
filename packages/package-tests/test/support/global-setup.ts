/**
 * Once per run: one private redis-server, and every publishable package
 * packed with `pnpm pack` (which turns `workspace:*` and `catalog:` into
 * versions and adds the root LICENSE) into one temporary folder. Tests get
 * `inject("redisUrl")` and `inject("tarballs")` (package name -> .tgz path).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startRedisServer } from "@multisession/redis-server";
import type { TestProject } from "vitest/node";
import { PUBLISHABLE } from "./publishable.js";
import { run } from "./run.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    tarballs: Record<string, string>;
  }
}

export const REPO_ROOT = resolve(import.meta.dirname, "../../../..");

export default async function setup(project: TestProject) {
  const packDir = await mkdtemp(join(tmpdir(), "multisession-packs-"));
  const tarballs: Record<string, string> = {};
  for (const { name, dir } of PUBLISHABLE) {
    const packageDir = join(REPO_ROOT, dir);
    if (!existsSync(join(packageDir, "dist"))) throw new Error(`${name} is not built: run pnpm build first`);
    const before = new Set(await readdir(packDir));
    await run("npx", ["--yes", "pnpm@12.4.2", "pack", "--pack-destination", packDir], { cwd: packageDir });
    const added = (await readdir(packDir)).filter((file) => !before.has(file) && file.endsWith(".tgz"));
    if (added.length !== 1) throw new Error(`pnpm pack of ${name} wrote ${added.length} tarballs: ${added.join(", ")}`);
    tarballs[name] = join(packDir, added[0] as string);
  }
  const server = await startRedisServer();
  project.provide("redisUrl", server.url);
  project.provide("tarballs", tarballs);
  return async () => {
    await server.stop();
    await rm(packDir, { recursive: true, force: true });
  };
}
