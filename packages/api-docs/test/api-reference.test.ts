/**
 * The API reference cannot rot: TypeDoc runs here with the repo's config
 * (typedoc.json: every warning an error, so a broken {@link}, or a public type
 * that refers to one that is not exported, fails this test), into a temporary
 * folder rather than docs/api. Its JSON output is then read for what the docs
 * promise: each public package is there under its name, every method of
 * SessionStore says what it throws, and every optional field of
 * SessionStoreOptions states its default.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = fileURLToPath(new URL("../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "api-docs-"));

/** The parts of TypeDoc's JSON output read here. */
interface Reflection {
  name: string;
  kind: number;
  flags: { isOptional?: boolean; isPrivate?: boolean; isExternal?: boolean };
  comment?: { blockTags?: { tag: string }[] };
  signatures?: Reflection[];
  getSignature?: Reflection;
  children?: Reflection[];
}

/** TypeDoc's ReflectionKind values used here. */
const KIND = { module: 2, class: 128, interface: 256, property: 1024, method: 2048 };

/** The packages typedoc.json documents. */
const PACKAGES = [
  "@multisession/session-core",
  "@multisession/session-http",
  "@multisession/fastify",
  "@multisession/express",
];

let project: Reflection;
beforeAll(async () => {
  try {
    await promisify(execFile)(
      join(here, "node_modules", ".bin", "typedoc"),
      ["--out", join(out, "html"), "--json", join(out, "api.json")],
      { cwd: here },
    );
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`typedoc failed:\n${stdout ?? ""}${stderr ?? ""}`);
  }
  project = JSON.parse(readFileSync(join(out, "api.json"), "utf8")) as Reflection;
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

function child(parent: Reflection, name: string, kind: number): Reflection {
  const found = parent.children?.find((item) => item.name === name && item.kind === kind);
  if (!found) throw new Error(`${name} is not in the API reference`);
  return found;
}

const tagsOf = (reflection: Reflection | undefined) => reflection?.comment?.blockTags?.map((tag) => tag.tag) ?? [];

describe("the API reference", () => {
  it("is generated with no warning, one module per public package, HTML included", () => {
    expect(project.children?.map((item) => item.name).sort()).toEqual([...PACKAGES].sort());
    const page = join(out, "html", "classes", "_multisession_session-core.SessionStore.html");
    expect(readFileSync(page, "utf8")).toContain("updateUserInfo");
  });

  it("says what every SessionStore method throws", () => {
    const core = child(project, "@multisession/session-core", KIND.module);
    const store = child(core, "SessionStore", KIND.class);
    const methods = (store.children ?? []).filter((item) => item.kind === KIND.method);
    expect(methods.map((method) => method.name)).toEqual(
      expect.arrayContaining(["create", "get", "getUserInfo", "updateUserInfo", "updateData", "setUserInfo"]),
    );
    // close() closes the store's own connections and never throws.
    const silent = methods.filter(
      (method) => method.name !== "close" && !tagsOf(method.signatures?.[0]).includes("@throws"),
    );
    expect(silent.map((method) => method.name)).toEqual([]);
    const construct = store.children?.find((item) => item.name === "constructor");
    expect(tagsOf(construct?.signatures?.[0])).toContain("@throws");
  });

  it("states the default of every optional SessionStoreOptions field where callers hover", () => {
    const core = child(project, "@multisession/session-core", KIND.module);
    const options = child(core, "SessionStoreOptions", KIND.interface);
    const fields = (options.children ?? []).filter((item) => item.kind === KIND.property);
    const optional = fields.filter((field) => field.flags.isOptional);
    expect(optional.length).toBeGreaterThanOrEqual(11);
    expect(optional.filter((field) => !tagsOf(field).includes("@default")).map((field) => field.name)).toEqual([]);
  });
});
