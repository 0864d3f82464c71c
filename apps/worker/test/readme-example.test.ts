/**
 * The package README's in-process example, run as written (it imports the
 * package by its own name) against a private redis-server: it must start the
 * worker, close everything it opened and exit 0 by itself.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const README = fileURLToPath(new URL("../README.md", import.meta.url));
// Inside the package, so that "@multisession/worker" resolves to this package (self-reference) and the rest to its dependencies.
const OUT = fileURLToPath(new URL("../test-output/", import.meta.url));

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis?.stop());

describe("the package README", () => {
  it("its in-process example starts the worker and exits 0 once it closed what it opened", async () => {
    const blocks = [...readFileSync(README, "utf8").matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
    expect(blocks).toHaveLength(1);
    mkdirSync(OUT, { recursive: true });
    const file = `${OUT}readme-example.mjs`;
    writeFileSync(file, blocks[0] as string);
    const { stdout } = await run(process.execPath, [file], {
      env: { PATH: process.env.PATH, REDIS_URL: redis.url },
      timeout: 30_000,
    });
    const lines = stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; clean?: boolean });
    expect(lines.map((line) => line.msg)).toEqual(["cleanup worker started", "cleanup worker closed"]);
    expect(lines.at(-1)?.clean).toBe(true);
  });
});
