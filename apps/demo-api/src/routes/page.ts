/** The "Your devices" page: plain HTML, CSS and a little JavaScript, read once at start-up. */
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";

const PUBLIC = new URL("../../public/", import.meta.url);
const FILES = [
  ["/", "index.html", "text/html; charset=utf-8"],
  ["/app.js", "app.js", "text/javascript; charset=utf-8"],
  ["/relative-time.js", "relative-time.js", "text/javascript; charset=utf-8"],
  ["/app.css", "app.css", "text/css; charset=utf-8"],
] as const;

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  for (const [path, file, type] of FILES) {
    const body = readFileSync(new URL(file, PUBLIC));
    app.get(path, async (_, reply) =>
      reply
        .type(type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "default-src 'self'; frame-ancestors 'none'")
        .send(body),
    );
  }
}
