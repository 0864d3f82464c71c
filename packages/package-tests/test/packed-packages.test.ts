/**
 * What npm would publish, checked as a user's tools see it: the tarball
 * `pnpm pack` wrote, with @arethetypeswrong/cli (types resolve under node10
 * `module: commonjs`, node16 from CJS and from ESM, and bundler) and publint
 * (exports, files, formats), plus what the issue asked every tarball to carry.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { describe, expect, inject, test } from "vitest";
import { PUBLISHABLE } from "./support/publishable.js";
import { run } from "./support/run.js";

const tarballs = inject("tarballs");
const bin = (name: string) => join(import.meta.dirname, "..", "node_modules", ".bin", name);

async function filesOf(tarball: string): Promise<string[]> {
  const { stdout } = await run("tar", ["-tzf", tarball], { cwd: import.meta.dirname });
  return stdout.split("\n").filter(Boolean);
}

async function textOf(tarball: string, file: string): Promise<string> {
  const { stdout } = await run("tar", ["-xzOf", tarball, file], { cwd: import.meta.dirname });
  return stdout;
}

test("every workspace package that is not private is in the pack test", async () => {
  const root = resolve(import.meta.dirname, "../../..");
  const published: string[] = [];
  for (const group of ["apps", "packages", "examples"]) {
    if (!existsSync(join(root, group))) continue;
    for (const folder of await readdir(join(root, group))) {
      const manifest = join(root, group, folder, "package.json");
      if (!existsSync(manifest)) continue;
      const { name, private: isPrivate } = JSON.parse(await readFile(manifest, "utf8")) as {
        name: string;
        private?: boolean;
      };
      if (isPrivate !== true) published.push(name);
    }
  }
  expect(published.sort()).toEqual(PUBLISHABLE.map((entry) => entry.name).sort());
});

describe.each(PUBLISHABLE)("$name", ({ name }) => {
  const tarball = () => {
    const path = tarballs[name];
    if (!path) throw new Error(`no tarball for ${name}`);
    return path;
  };

  test("@arethetypeswrong/cli finds no problem in any resolution mode", async () => {
    // A problem makes attw exit 1, which run() turns into a failure that carries the report.
    const { stdout } = await run(bin("attw"), [tarball(), "--format", "json", "--no-definitely-typed"], {
      cwd: import.meta.dirname,
    });
    const report = JSON.parse(stdout) as {
      analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, unknown> }> };
    };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints["."]?.resolutions ?? {}).sort()).toEqual([
      "bundler",
      "node10",
      "node16-cjs",
      "node16-esm",
    ]);
  });

  test("publint reports nothing, suggestions included", async () => {
    const data = await readFile(tarball());
    const { messages, pkg } = await publint({
      pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer },
      level: "suggestion",
    });
    expect(messages.map((message) => `${message.code}: ${formatMessage(message, pkg)}`)).toEqual([]);
  });

  test("the tarball carries LICENSE, README.md and both builds, and no source map without its sources", async () => {
    const files = await filesOf(tarball());
    expect(files).toEqual(expect.arrayContaining(["package/LICENSE", "package/README.md", "package/package.json"]));
    expect(await textOf(tarball(), "package/LICENSE")).toMatch(/^MIT License/);
    const manifest = JSON.parse(await textOf(tarball(), "package/package.json")) as Record<string, unknown>;
    expect(manifest).toMatchObject({ license: "MIT", sideEffects: false, engines: { node: ">=20.19" } });
    expect(JSON.stringify(manifest)).not.toMatch(/workspace:|catalog:/);
    for (const file of ["package/dist/esm/index.js", "package/dist/cjs/index.js", "package/dist/cjs/package.json"]) {
      expect(files).toContain(file);
    }
    const maps = files.filter((file) => file.endsWith(".map"));
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(await textOf(tarball(), map)) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect({ map, complete: sourcesContent?.length === sources.length && sourcesContent.every(Boolean) }).toEqual({
        map,
        complete: true,
      });
    }
  });
});
