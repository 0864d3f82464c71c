import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { HTTP_ERROR_CODES } from "../src/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("the HTTP layer's error codes", () => {
  test("are unique and start with ERR_", () => {
    const codes = Object.values(HTTP_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^ERR_[A-Z_]+$/);
  });

  test("each has a row in the README's table, with its status", () => {
    const rows = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)`\s*\| (\d{3})\s*\|/gm)].map((row) => [row[1], Number(row[2])]);
    expect(rows.map(([code]) => code).sort()).toEqual(Object.values(HTTP_ERROR_CODES).sort());
    expect(Object.fromEntries(rows)).toEqual({ ERR_FORBIDDEN_ORIGIN: 403, ERR_DEVICE_NOT_FOUND: 404 });
  });
});
