/**
 * `requireSession`: a preHandler hook for routes that need a caller. A
 * request without a live session is answered with its refusal: 401 and
 * session-core's code (no token, unknown, revoked, expired, malformed), or
 * 403 ERR_FORBIDDEN_ORIGIN for a cookie-authenticated write from another
 * origin. The body is `{ error: { code, message } }`.
 */
import { ERROR_CODES } from "@multisession/session-core";
import { errorBody, NO_SESSION_MESSAGE } from "@multisession/session-http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { sessionStateOf } from "./plugin.js";

export async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const state = sessionStateOf(request);
  if (state.session) return;
  const status = state.refusal?.statusCode ?? 401;
  const code = state.refusal?.code ?? ERROR_CODES.SESSION_NOT_FOUND;
  await reply.code(status).send(errorBody(code, state.refusal?.message ?? NO_SESSION_MESSAGE));
}
