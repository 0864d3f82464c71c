/**
 * `requireSession`: middleware for routes that need a caller. A request
 * without a live session is answered with its refusal: 401 and
 * session-core's code (no token, unknown, revoked, expired, malformed), or
 * 403 ERR_FORBIDDEN_ORIGIN for a cookie-authenticated write from another
 * origin. The body is `{ error: { code, message } }`.
 */
import { ERROR_CODES } from "@multisession/session-core";
import { errorBody, NO_SESSION_MESSAGE } from "@multisession/session-http";
import type { NextFunction, Request, Response } from "express";
import { sessionStateOf } from "./middleware.js";

export function requireSession(req: Request, res: Response, next: NextFunction): void {
  const { state } = sessionStateOf(req);
  if (state.session) {
    next();
    return;
  }
  const status = state.refusal?.statusCode ?? 401;
  const code = state.refusal?.code ?? ERROR_CODES.SESSION_NOT_FOUND;
  res.status(status).json(errorBody(code, state.refusal?.message ?? NO_SESSION_MESSAGE));
}
