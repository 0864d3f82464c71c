/** The user's devices, and signing one of them out. */
import type { SessionStore } from "@multisession/session-core";
import type { FastifyInstance } from "fastify";
import { API_ERROR_CODES, ApiError } from "../errors.js";
import { requireSession, SESSION_COOKIE } from "../session-auth.js";
import { sessionView } from "./views.js";

export async function sessionRoutes(app: FastifyInstance, options: { store: SessionStore }): Promise<void> {
  const { store } = options;
  app.addHook("preHandler", requireSession(store));

  app.get("/sessions", async (request) => {
    const sessions = await store.list(request.caller.userId);
    return { sessions: sessions.map((session) => sessionView(session, request.caller.session.handle)) };
  });

  app.delete<{ Params: { handle: string } }>(
    "/sessions/:handle",
    {
      schema: {
        params: {
          type: "object",
          required: ["handle"],
          properties: { handle: { type: "string", pattern: "^[A-Za-z0-9_-]{16}$" } },
        },
      },
    },
    async (request, reply) => {
      const { handle } = request.params;
      if (!(await store.revoke(request.caller.userId, handle))) {
        throw new ApiError(404, API_ERROR_CODES.NOT_FOUND, "no such device among yours");
      }
      if (handle === request.caller.session.handle) reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.code(204).send();
    },
  );
}
