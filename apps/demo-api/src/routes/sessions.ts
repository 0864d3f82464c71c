/** The user's devices, and signing one of them out. */
import { INPUT_LIMITS } from "@multisession/session-core";
import type { FastifyInstance } from "fastify";
import { API_ERROR_CODES, ApiError } from "../errors.js";
import { requireSession, type SessionAuth } from "../session-auth.js";
import { sessionView } from "./views.js";

export async function sessionRoutes(app: FastifyInstance, options: { auth: SessionAuth }): Promise<void> {
  const { store, cookie } = options.auth;
  app.addHook("preHandler", requireSession(options.auth));

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
          properties: { handle: { type: "string", pattern: `^[A-Za-z0-9_-]{${INPUT_LIMITS.handle}}$` } },
        },
      },
    },
    async (request, reply) => {
      const { handle } = request.params;
      if (!(await store.revoke(request.caller.userId, handle))) {
        throw new ApiError(404, API_ERROR_CODES.NOT_FOUND, "no such device among yours");
      }
      if (handle === request.caller.session.handle) cookie.clear(reply);
      return reply.code(204).send();
    },
  );
}
