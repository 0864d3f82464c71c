/**
 * The worker's image recipe (apps/worker/Dockerfile), checked without a
 * Docker engine: manifests copied and installed before any source, only the
 * worker and the workspace packages it runs on, every copied path present,
 * a non-root user, a HEALTHCHECK on /healthz, the package's bin as the
 * command. And the compose file keeps Redis off the host's interfaces.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, "utf8");

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped, split into stages. */
function stages(dockerfile: string): Instruction[][] {
  const lines = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const result: Instruction[][] = [];
  for (const line of lines) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    if (instruction.keyword === "FROM") result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

/** A COPY's sources (its last word is the destination); flags such as --from dropped. */
const sourcesOf = (copy: Instruction) =>
  copy.args
    .split(/\s+/)
    .filter((word) => !word.startsWith("--"))
    .slice(0, -1);

/** The workspace packages `name` needs at run time: its `workspace:` dependencies, transitively. */
function runtimeWorkspace(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  const manifest = JSON.parse(read(`${dir}/package.json`)) as { dependencies?: Record<string, string> };
  for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
    if (!version.startsWith("workspace:")) continue;
    const next = `packages/${name.replace("@multisession/", "")}`;
    if (!existsSync(`${ROOT}${next}/package.json`)) throw new Error(`${name} is not in packages/`);
    if (!seen.has(next)) runtimeWorkspace(next, seen);
  }
  return seen;
}

const [build = [], runtime = []] = stages(read("apps/worker/Dockerfile"));

describe("apps/worker/Dockerfile", () => {
  it("has a build stage and a runtime stage", () => {
    expect(stages(read("apps/worker/Dockerfile"))).toHaveLength(2);
    expect(build[0]?.args).toMatch(/ AS build$/);
  });

  it("copies the manifests, installs, and only then copies the sources", () => {
    const install = build.findIndex(
      (step) => step.keyword === "RUN" && /pnpm install --frozen-lockfile/.test(step.args),
    );
    expect(install).toBeGreaterThan(0);
    const copies = build.map((step, index) => ({ step, index })).filter(({ step }) => step.keyword === "COPY");
    const manifest = (path: string) => /(^|\/)(package\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml)$/.test(path);
    for (const { step, index } of copies) {
      const allManifests = sourcesOf(step).every(manifest);
      expect({ copy: step.args, beforeInstall: index < install }).toEqual({
        copy: step.args,
        beforeInstall: allManifests,
      });
    }
  });

  it("copies the manifests of exactly the worker and the workspace packages it runs on, and builds only those", () => {
    const needed = [...runtimeWorkspace("apps/worker")].map((dir) => `${dir}/package.json`).sort();
    expect(needed).toEqual(
      expect.arrayContaining(["packages/service-kit/package.json", "packages/session-core/package.json"]),
    );
    const copiedManifests = build
      .filter((step) => step.keyword === "COPY")
      .flatMap(sourcesOf)
      .filter((path) => path.endsWith("/package.json"));
    expect(copiedManifests.sort()).toEqual(needed);
    const sourceDirs = build
      .filter((step) => step.keyword === "COPY")
      .flatMap(sourcesOf)
      .filter((path) => path.endsWith("/") && /^(apps|packages)\//.test(path))
      .map((path) => path.replace(/\/$/, ""))
      .sort();
    expect(sourceDirs).toEqual([...runtimeWorkspace("apps/worker")].sort());
    for (const step of build.filter((s) => s.keyword === "RUN" && /pnpm (install|.*build)/.test(s.args))) {
      expect(step.args).toContain('--filter-prod "@multisession/worker..."');
    }
  });

  it("copies only paths that exist", () => {
    for (const path of build.filter((step) => step.keyword === "COPY").flatMap(sourcesOf)) {
      expect({ path, exists: existsSync(`${ROOT}${path}`) }).toEqual({ path, exists: true });
    }
  });

  it("runs the package's bin as a non-root user, with a HEALTHCHECK on /healthz", () => {
    const user = runtime.filter((step) => step.keyword === "USER").at(-1);
    expect(user?.args).toBeDefined();
    expect(user?.args).not.toMatch(/^(root|0)(:|$)/);
    const healthcheck = runtime.find((step) => step.keyword === "HEALTHCHECK");
    expect(healthcheck?.args).toContain("/healthz");
    expect(healthcheck?.args).toContain("process.env.HTTP_PORT");
    expect(runtime.find((step) => step.keyword === "ENV")?.args).toMatch(/HTTP_PORT=8081/);
    const { bin } = JSON.parse(read("apps/worker/package.json")) as { bin: Record<string, string> };
    const cmd = JSON.parse(runtime.find((step) => step.keyword === "CMD")?.args ?? "[]") as string[];
    expect(cmd).toEqual(["node", bin["multisession-worker"]]);
  });

  it(".dockerignore keeps local installs, builds and secrets out of the context", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const pattern of ["**/node_modules", "**/dist", ".git", "**/.env"]) expect(ignored).toContain(pattern);
  });
});

describe("docker-compose.yml", () => {
  it("publishes no Redis port, and builds the worker from its Dockerfile", () => {
    const compose = read("docker-compose.yml");
    const services = compose.slice(compose.indexOf("\nservices:\n"));
    const redis = services.slice(services.indexOf("\n  redis:\n"), services.indexOf("\n  worker:\n"));
    expect(redis).toContain("image: redis:");
    expect(redis).not.toMatch(/^\s+ports:/m);
    const worker = services.slice(services.indexOf("\n  worker:\n"), services.indexOf("\n  demo-api:\n"));
    expect(worker).toContain("dockerfile: apps/worker/Dockerfile");
  });
});
