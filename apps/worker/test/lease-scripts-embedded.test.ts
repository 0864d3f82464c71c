/** The lease scripts travel inside the JavaScript (src/sweeper/scripts/lua.generated.ts), as session-core's do. */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LUA_SOURCES } from "../src/sweeper/scripts/lua.generated.js";

const scriptsDir = fileURLToPath(new URL("../src/sweeper/scripts/", import.meta.url));
const tool = fileURLToPath(new URL("../../../tools/embed-lua.mjs", import.meta.url));

describe("embedded lease scripts", () => {
  it("match the .lua files, every one of them", () => {
    expect(() => execFileSync(process.execPath, [tool, scriptsDir, "--check"], { stdio: "pipe" })).not.toThrow();
    const files = readdirSync(scriptsDir).filter((name) => name.endsWith(".lua"));
    expect(Object.keys(LUA_SOURCES).sort()).toEqual(files.sort());
  });

  it("are not read from disk at run time", () => {
    const source = readFileSync(fileURLToPath(new URL("../src/sweeper/lease.ts", import.meta.url)), "utf8");
    expect(source).not.toMatch(/node:fs|readFileSync|import\.meta\.url/);
  });
});
