/**
 * The user's devices, at the demo's documented paths: `GET /sessions`,
 * `DELETE /sessions/:handle`, `POST /auth/logout-others` and
 * `POST /auth/logout-all`. Each route is one call to the devices functions
 * of @multisession/session-http, the same ones @multisession/fastify's
 * `deviceRoutes` serves under `/devices`: the list with the caller's device
 * first and browser and OS names, a revoke that answers 404
 * ERR_DEVICE_NOT_FOUND for a handle that is not the caller's, and the two
 * mass logouts. The demo keeps its own paths and the `sessions` key because
 * its clients (the page, the attack and fault suites) were written to them.
 */
import { requireSession, sessionStateOf } from "@multisession/fastify";
import { listDevices, logOutEverywhere, logOutOthers, requireCaller, revokeDevice } from "@multisession/session-http";
import type { FastifyInstance, FastifyRequest } from "fastify";

export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { store, cookie } = app.multisession;
  const callerOf = (request: FastifyRequest) => requireCaller(sessionStateOf(request));
  app.addHook("preHandler", requireSession);

  app.get("/sessions", async (request) => ({ sessions: await listDevices(store, callerOf(request)) }));

  app.delete<{ Params: { handle: string } }>("/sessions/:handle", async (request, reply) => {
    const { current } = await revokeDevice(store, callerOf(request), request.params.handle);
    if (current) reply.header("set-cookie", cookie.clearing());
    return reply.code(204).send();
  });

  app.post("/auth/logout-others", async (request) => ({ removed: await logOutOthers(store, callerOf(request)) }));

  app.post("/auth/logout-all", async (request, reply) => {
    const removed = await logOutEverywhere(store, callerOf(request));
    reply.header("set-cookie", cookie.clearing());
    return { removed };
  });
}
