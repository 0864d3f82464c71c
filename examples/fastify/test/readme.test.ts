/**
 * The READMEs show this example's glue as excerpts: each block introduced
 * with "(from `examples/fastify/src/server.ts`)" must appear in the server,
 * line for line, so the docs cannot drift from code that is built and run.
 */
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";

const SOURCE = "examples/fastify/src/server.ts";
const READMES = ["README.md", "packages/fastify/README.md"];
const root = new URL("../../../", import.meta.url);

/**
 * The untagged code blocks that a line naming `source` ("(from `<source>`)")
 * introduces: every such block up to the next line naming another source or
 * the next heading.
 */
function excerpts(markdown: string, source: string): string[] {
  const blocks: string[] = [];
  const lines = markdown.split("\n");
  let from: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("```")) {
      const close = lines.findIndex((text, j) => j > i && text.startsWith("```"));
      if (line === "```" && from === source) blocks.push(lines.slice(i + 1, close).join("\n"));
      i = close;
      continue;
    }
    if (line.startsWith("#")) from = null;
    const named = /\(from `([^`]+)`\)/.exec(line);
    if (named) from = named[1] ?? null;
  }
  return blocks;
}

test.each(READMES)("%s shows the server's glue exactly as it is", (readme) => {
  const server = readFileSync(new URL(SOURCE, root), "utf8");
  const blocks = excerpts(readFileSync(new URL(readme, root), "utf8"), SOURCE);
  expect(blocks.length).toBeGreaterThan(0);
  for (const block of blocks) expect(server).toContain(block);
});
