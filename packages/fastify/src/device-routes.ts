/**
 * `app.register(deviceRoutes, { prefix: "/account" })`: the whole "Your
 * devices" API, every route behind `requireSession`:
 *
 * - `GET    /devices`                    `{ devices: DeviceView[] }`, the caller's first, marked `current`
 * - `DELETE /devices/:handle`            204; clears the cookie when it was the caller's own device
 * - `POST   /devices/log-out-others`     `{ removed }`
 * - `POST   /devices/log-out-everywhere` `{ removed }`; clears the cookie
 *
 * Encapsulated (no fastify-plugin): its error handler answers session errors
 * in `{ error: { code, message } }` even where the app set its own handler.
 * Register `multisession` first, in the same or a parent scope.
 */
import {
  DEVICE_ROUTES,
  listDevices,
  logOutEverywhere,
  logOutOthers,
  requireCaller,
  revokeDevice,
} from "@multisession/session-http";
import type { FastifyError, FastifyInstance } from "fastify";
import { sendSessionError, sessionStateOf, writeSessionCookie } from "./plugin.js";
import { requireSession } from "./require-session.js";

export async function deviceRoutes(app: FastifyInstance): Promise<void> {
  if (!app.hasDecorator("multisession")) {
    throw new Error("register @multisession/fastify's multisession plugin before deviceRoutes");
  }
  const http = app.multisession;
  app.addHook("preHandler", requireSession);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (!sendSessionError(error, request, reply)) throw error;
  });

  app.get(DEVICE_ROUTES.list.path, async (request) => {
    return { devices: await listDevices(http.store, requireCaller(sessionStateOf(request))) };
  });

  app.delete<{ Params: { handle: string } }>(DEVICE_ROUTES.revoke.path, async (request, reply) => {
    const { current } = await revokeDevice(http.store, requireCaller(sessionStateOf(request)), request.params.handle);
    if (current) writeSessionCookie(reply, http.cookie.clearing());
    return reply.code(204).send();
  });

  app.post(DEVICE_ROUTES.logOutOthers.path, async (request) => {
    return { removed: await logOutOthers(http.store, requireCaller(sessionStateOf(request))) };
  });

  app.post(DEVICE_ROUTES.logOutEverywhere.path, async (request, reply) => {
    const removed = await logOutEverywhere(http.store, requireCaller(sessionStateOf(request)));
    writeSessionCookie(reply, http.cookie.clearing());
    return { removed };
  });
}
