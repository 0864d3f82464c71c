/**
 * The TypeScript code blocks of a Markdown file, each with what the docs
 * promise of it. The info string after the fence says how a block is run:
 *   ```ts          a program: runs against the REDIS_URL it is given and exits 0 by itself
 *   ```ts server   a server: runs until it answers HTTP on the PORT it is given, then is stopped
 * Every block is type-checked under the repo's strict settings, as a module of
 * its own. Other languages (sh, mermaid, json) are left alone.
 */

export type SnippetMode = "program" | "server";

export interface Snippet {
  /** The Markdown file, relative to the repo root. */
  file: string;
  /** The line of the opening fence, 1-based. */
  line: number;
  mode: SnippetMode;
  code: string;
}

const FENCE = /^```(\S*)(?:[ \t]+(.*))?$/;
const TYPESCRIPT = new Set(["ts", "typescript"]);

export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split("\n");
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const close = lines.findIndex((text, j) => j > i && text.startsWith("```"));
    if (close < 0) throw new Error(`${file}:${i + 1}: a code block that is never closed`);
    const language = (open[1] ?? "").toLowerCase();
    if (TYPESCRIPT.has(language)) {
      const info = (open[2] ?? "").trim();
      if (info !== "" && info !== "server") {
        throw new Error(`${file}:${i + 1}: unknown info string "${info}" (expected nothing or "server")`);
      }
      snippets.push({
        file,
        line: i + 1,
        mode: info === "server" ? "server" : "program",
        code: `${lines.slice(i + 1, close).join("\n")}\n`,
      });
    }
    i = close;
  }
  return snippets;
}

/** A file name for the snippet: where it came from, safe on any file system. */
export function snippetFileName(snippet: Snippet): string {
  return `${snippet.file.replace(/[^A-Za-z0-9]+/g, "-")}-line-${snippet.line}.ts`;
}
