/** A small Fastify app on the plugin, as a user would write it, and helpers to read its answers. */
import type { SessionStore } from "@multisession/session-core";
import Fastify, { type FastifyInstance } from "fastify";
import { deviceRoutes, type MultisessionOptions, multisession, requireSession } from "../../src/index.js";

export async function buildApp(
  store: SessionStore,
  options: Partial<MultisessionOptions> = {},
  configure?: (app: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(multisession, { store, production: false, ...options });
  configure?.(app);
  app.get("/public", async (request) => ({ userId: request.session?.userId ?? null }));
  app.get("/me", { preHandler: requireSession }, async (request) => ({
    userId: request.session?.userId,
    handle: request.session?.handle,
  }));
  app.post("/me/note", { preHandler: requireSession }, async () => ({ saved: true }));
  app.post<{ Body: { userId: string; deviceName?: string } }>("/login", async (request, reply) => {
    const { token, session } = await reply.logIn(request.body.userId, { deviceName: request.body.deviceName });
    return { token, handle: session.handle, device: session.device };
  });
  app.post("/logout", async (_request, reply) => ({ removed: await reply.logOut() }));
  app.post("/rotate", { preHandler: requireSession }, async (_request, reply) => {
    const { token } = await reply.rotateSession();
    return { token };
  });
  await app.register(deviceRoutes, { prefix: "/account" });
  await app.ready();
  return app;
}

/** The response's Set-Cookie values, as a list. */
export function setCookies(headers: Record<string, unknown>): string[] {
  const value = headers["set-cookie"];
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}
