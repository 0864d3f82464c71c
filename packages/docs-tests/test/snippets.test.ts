import { describe, expect, it } from "vitest";
import { extractSnippets, snippetFileName } from "../src/snippets.js";

describe("extractSnippets", () => {
  it("takes ts blocks with their line and mode, and leaves other languages", () => {
    const markdown = [
      "# Title",
      "```sh",
      "pnpm test",
      "```",
      "```ts",
      "const a = 1;",
      "```",
      "text",
      "```ts server",
      "listen();",
      "```",
    ].join("\n");
    expect(extractSnippets(markdown, "README.md")).toEqual([
      { file: "README.md", line: 5, mode: "program", code: "const a = 1;\n" },
      { file: "README.md", line: 9, mode: "server", code: "listen();\n" },
    ]);
  });

  it("refuses an unclosed block and an unknown info string, naming the line", () => {
    expect(() => extractSnippets("```ts\nconst a = 1;\n", "X.md")).toThrow("X.md:1");
    expect(() => extractSnippets("text\n```ts fragment\nx\n```\n", "X.md")).toThrow(
      'X.md:2: unknown info string "fragment"',
    );
  });

  it("names a snippet's file after where it came from", () => {
    expect(snippetFileName({ file: "packages/fastify/README.md", line: 12, mode: "program", code: "" })).toBe(
      "packages-fastify-README-md-line-12.ts",
    );
  });
});
