/**
 * The Lua scripts travel inside the JavaScript (src/scripts/lua.generated.ts,
 * written by tools/embed-lua.mjs at build time): a bundled server has no .lua
 * files beside it, so the loader must not read any.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScripts } from "../src/scripts/index.js";
import { LUA_SOURCES } from "../src/scripts/lua.generated.js";

const scriptsDir = fileURLToPath(new URL("../src/scripts/", import.meta.url));
const tool = fileURLToPath(new URL("../../../tools/embed-lua.mjs", import.meta.url));

describe("embedded Lua scripts", () => {
  it("the generated module matches the .lua files (it is not stale)", () => {
    expect(() => execFileSync(process.execPath, [tool, scriptsDir, "--check"], { stdio: "pipe" })).not.toThrow();
  });

  it("holds every script file, with its includes pasted in", () => {
    const files = readdirSync(scriptsDir).filter((name) => name.endsWith(".lua"));
    expect(Object.keys(LUA_SOURCES).sort()).toEqual(files.sort());
    for (const [file, lua] of Object.entries(LUA_SOURCES)) {
      expect(lua, file).not.toMatch(/^--- @include/m);
      const own = readFileSync(`${scriptsDir}${file}`, "utf8");
      if (/^--- @include "record"/m.test(own)) expect(lua, file).toContain("local function parseHeader(");
    }
  });

  it("the loader takes them from the module, not from disk", () => {
    const source = readFileSync(`${scriptsDir}index.ts`, "utf8");
    expect(source).not.toMatch(/node:fs|readFileSync|import\.meta\.url/);
    for (const { lua } of Object.values(loadScripts())) expect(Object.values(LUA_SOURCES)).toContain(lua);
  });
});
