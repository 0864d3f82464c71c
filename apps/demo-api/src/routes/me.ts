/** The caller's own session and the user info all of the user's sessions share. */
import { requireSession } from "@multisession/fastify";
import type { JsonValue, Session } from "@multisession/session-core";
import { deviceView } from "@multisession/session-http";
import type { FastifyInstance, FastifyRequest } from "fastify";

export async function meRoutes(app: FastifyInstance): Promise<void> {
  app.addHook("preHandler", requireSession);

  app.get("/me", async (request) => {
    const { session } = callerOf(request);
    return { userId: session.userId, session: deviceView(session, session.handle), userInfo: session.userInfo };
  });

  app.put<{ Body: { [key: string]: JsonValue } }>(
    "/me/info",
    { schema: { body: { type: "object", maxProperties: 64 } } },
    async (request) => {
      const { session, sessionId } = callerOf(request);
      await app.multisession.store.setUserInfo(session.userId, sessionId, request.body);
      return { userInfo: request.body };
    },
  );
}

/** The caller's session and secret; requireSession has refused every request without them. */
function callerOf(request: FastifyRequest): { session: Session; sessionId: string } {
  const { session, sessionId } = request;
  if (!session || !sessionId) throw new Error("requireSession must run before this route");
  return { session, sessionId };
}
