/** The caller's own session and the user info all of the user's sessions share. */
import type { JsonValue } from "@multisession/session-core";
import type { FastifyInstance } from "fastify";
import { requireSession, type SessionAuth } from "../session-auth.js";
import { sessionView } from "./views.js";

export async function meRoutes(app: FastifyInstance, options: { auth: SessionAuth }): Promise<void> {
  const { store } = options.auth;
  app.addHook("preHandler", requireSession(options.auth));

  app.get("/me", async (request) => {
    const { session } = request.caller;
    return { userId: session.userId, session: sessionView(session, session.handle), userInfo: session.userInfo };
  });

  app.put<{ Body: { [key: string]: JsonValue } }>(
    "/me/info",
    { schema: { body: { type: "object", maxProperties: 64 } } },
    async (request) => {
      await store.setUserInfo(request.caller.userId, request.caller.sessionId, request.body);
      return { userInfo: request.body };
    },
  );
}
