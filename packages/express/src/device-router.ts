/**
 * `app.use("/account", deviceRouter())`: the whole "Your devices" API,
 * every route behind `requireSession`:
 *
 * - `GET    /devices`                    `{ devices: DeviceView[] }`, the caller's first, marked `current`
 * - `DELETE /devices/:handle`            204; clears the cookie when it was the caller's own device
 * - `POST   /devices/log-out-others`     `{ removed }`
 * - `POST   /devices/log-out-everywhere` `{ removed }`; clears the cookie
 *
 * Its session errors are answered by the router itself, in
 * `{ error: { code, message } }`. `app.use(multisession({ store }))` must run first.
 */
import {
  DEVICE_ROUTES,
  listDevices,
  logOutEverywhere,
  logOutOthers,
  requireCaller,
  revokeDevice,
} from "@multisession/session-http";
import { Router } from "express";
import { sessionStateOf, writeSessionCookie } from "./middleware.js";
import { requireSession } from "./require-session.js";
import { type SessionErrorsOptions, sessionErrors } from "./session-errors.js";

export function deviceRouter(options: SessionErrorsOptions = {}): Router {
  const router = Router();

  router.get(DEVICE_ROUTES.list.path, requireSession, async (req, res) => {
    const { http, state } = sessionStateOf(req);
    res.json({ devices: await listDevices(http.store, requireCaller(state)) });
  });

  router.delete<{ handle: string }>(DEVICE_ROUTES.revoke.path, requireSession, async (req, res) => {
    const { http, state } = sessionStateOf(req);
    const { current } = await revokeDevice(http.store, requireCaller(state), req.params.handle);
    if (current) writeSessionCookie(res, http.cookie.clearing());
    res.status(204).end();
  });

  router.post(DEVICE_ROUTES.logOutOthers.path, requireSession, async (req, res) => {
    const { http, state } = sessionStateOf(req);
    res.json({ removed: await logOutOthers(http.store, requireCaller(state)) });
  });

  router.post(DEVICE_ROUTES.logOutEverywhere.path, requireSession, async (req, res) => {
    const { http, state } = sessionStateOf(req);
    const removed = await logOutEverywhere(http.store, requireCaller(state));
    writeSessionCookie(res, http.cookie.clearing());
    res.json({ removed });
  });

  router.use(sessionErrors(options));
  return router;
}
