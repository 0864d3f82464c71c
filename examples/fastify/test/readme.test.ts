/**
 * The READMEs show this example's glue: each block introduced with
 * "(from `examples/fastify/src/server.ts`)" is either an excerpt (untagged) that
 * must appear in the server line for line, or a whole server of its own
 * (```ts server, which packages/docs-tests type-checks and runs) that must
 * hold the server's glue, line for line. So the docs cannot drift from code
 * that is built and run.
 */
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";

const SOURCE = "examples/fastify/src/server.ts";
const READMES = ["README.md", "packages/fastify/README.md"];
const root = new URL("../../../", import.meta.url);

/**
 * The untagged and `ts server` code blocks that a line naming `source` ("(from `<source>`)")
 * introduces: every such block up to the next line naming another source or
 * the next heading.
 */
function excerpts(markdown: string, source: string): { whole: boolean; text: string }[] {
  const blocks: { whole: boolean; text: string }[] = [];
  const lines = markdown.split("\n");
  let from: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("```")) {
      const close = lines.findIndex((text, j) => j > i && text.startsWith("```"));
      if ((line === "```" || line === "```ts server") && from === source) {
        blocks.push({ whole: line !== "```", text: lines.slice(i + 1, close).join("\n") });
      }
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
  // The glue: from the line after "// The glue" to the first blank line.
  const lines = server.split("\n");
  const first = lines.findIndex((line) => line.startsWith("// The glue")) + 1;
  const glue = lines.slice(first, lines.indexOf("", first)).join("\n");
  expect(first).toBeGreaterThan(0);
  expect(glue.split("\n").length).toBeGreaterThan(3);
  for (const block of blocks) {
    if (block.whole) expect(block.text).toContain(glue);
    else expect(server).toContain(block.text);
  }
});
