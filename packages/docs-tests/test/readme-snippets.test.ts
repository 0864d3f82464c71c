/**
 * Every TypeScript block in the READMEs (the root one and each package's) is
 * written to .snippets/ inside this package (so it resolves the workspace's
 * packages as an installed user's code would), type-checked under the repo's
 * strict settings, and run with tsx against a private redis-server: a program
 * must exit 0 by itself, a server must answer HTTP on the PORT it is given.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type RedisServer, startRedisServer } from "@multisession/redis-server";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractSnippets, type Snippet, snippetFileName } from "../src/snippets.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));
const here = fileURLToPath(new URL("../", import.meta.url));
const dir = join(here, ".snippets");
const bin = (name: string) => join(here, "node_modules", ".bin", name);

function readmes(): string[] {
  const found = [join(root, "README.md")];
  for (const group of ["packages", "apps", "examples"]) {
    if (!existsSync(join(root, group))) continue;
    for (const name of readdirSync(join(root, group))) {
      const readme = join(root, group, name, "README.md");
      if (existsSync(readme)) found.push(readme);
    }
  }
  return found;
}

const snippets: Snippet[] = readmes().flatMap((path) =>
  extractSnippets(readFileSync(path, "utf8"), relative(root, path)),
);

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const snippet of snippets) writeFileSync(join(dir, snippetFileName(snippet)), snippet.code);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../../tsconfig.base.json",
      compilerOptions: { noEmit: true, noUncheckedIndexedAccess: true, strict: true },
      include: ["*.ts"],
    }),
  );
});
afterAll(async () => {
  await redis?.stop();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Runs one snippet with tsx; resolves with its exit code and output. */
function start(snippet: Snippet, env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", join(dir, snippetFileName(snippet))], {
    cwd: dir,
    env: { ...process.env, ...env, NODE_ENV: "test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

describe("the READMEs' TypeScript blocks", () => {
  it("there are some, and the root README's API block is among them", () => {
    expect(snippets.filter((s) => s.file === "README.md").length).toBeGreaterThan(0);
  });

  it("type-check under the repo's strict settings", async () => {
    const result = await run(bin("tsc"), ["-p", join(dir, "tsconfig.json")], { cwd: dir }).then(
      () => ({ ok: true, output: "" }),
      (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${error.stdout}${error.stderr}` }),
    );
    expect(result.output).toBe("");
    expect(result.ok).toBe(true);
  });

  for (const snippet of snippets) {
    it(`${snippet.file}:${snippet.line} (${snippet.mode}) runs against a private Redis`, async () => {
      const flush = new Redis(redis.url);
      await flush.flushall();
      await flush.quit();
      const port = await freePort();
      const running = start(snippet, { REDIS_URL: redis.url, PORT: String(port) });
      if (snippet.mode === "program") {
        const timeout = setTimeout(() => running.child.kill("SIGKILL"), 60_000);
        const { code, signal } = await running.exited;
        clearTimeout(timeout);
        expect({ code, signal, output: running.output() }).toMatchObject({ code: 0, signal: null });
        return;
      }
      // A server: up once it answers HTTP on its port (any status), then stopped.
      const deadline = Date.now() + 60_000;
      let answered = false;
      while (!answered && Date.now() < deadline && running.child.exitCode === null) {
        answered = await fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => false,
        );
        if (!answered) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      running.child.kill("SIGTERM");
      await running.exited;
      expect({ answered, output: running.output() }).toMatchObject({ answered: true });
    });
  }
});
