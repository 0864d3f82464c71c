/**
 * Every error answer is `{ error: { code, message } }`, the router's own
 * refusals (a malformed URL, a too-long parameter) included. Session problems
 * carry session-core's own codes; the demo adds a few of its own, listed
 * here. A 5xx answer says what kind of failure it was and nothing more: the
 * backend's text (Redis's error, a script SHA or Lua line, ioredis's retry
 * message) goes to the log line, with the request id, never to the client.
 */
import { ERROR_CODES, SessionError } from "@multisession/session-core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export const API_ERROR_CODES = Object.freeze({
  BAD_CREDENTIALS: "ERR_BAD_CREDENTIALS",
  VALIDATION: "ERR_VALIDATION",
  NOT_FOUND: "ERR_NOT_FOUND",
  FORBIDDEN_ORIGIN: "ERR_FORBIDDEN_ORIGIN",
  TOO_MANY_ATTEMPTS: "ERR_TOO_MANY_ATTEMPTS",
  BAD_URL: "ERR_BAD_URL",
  PARAM_TOO_LONG: "ERR_PARAM_TOO_LONG",
  INTERNAL: "ERR_INTERNAL",
});

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SESSION_STATUS: Record<string, number> = {
  [ERROR_CODES.SESSION_NOT_FOUND]: 401,
  [ERROR_CODES.SESSION_EXPIRED]: 401,
  [ERROR_CODES.INVALID_INPUT]: 400,
  [ERROR_CODES.SESSION_LIMIT]: 429,
  [ERROR_CODES.BACKEND]: 503,
  [ERROR_CODES.OUTCOME_UNKNOWN]: 503,
  [ERROR_CODES.REVOCATION_NOT_REPLICATED]: 503,
};

/** What a client reads for a backend failure: what happened and what to do, never the backend's own text. */
const PLAIN_MESSAGES: Record<string, string> = {
  [ERROR_CODES.BACKEND]: "the session store is unavailable; try again shortly",
  [ERROR_CODES.OUTCOME_UNKNOWN]: "the session store may or may not have done this; check, or send it again",
  [ERROR_CODES.REVOCATION_NOT_REPLICATED]:
    "done on the primary session store, but its replicas did not confirm it in time; a failover could undo it",
};

/** The router refuses some requests before any route runs; these give them the documented shape. */
const FRAMEWORK_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_BAD_URL: { status: 400, code: API_ERROR_CODES.BAD_URL, message: "the URL is malformed" },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: API_ERROR_CODES.PARAM_TOO_LONG,
    message: "a URL parameter is too long",
  },
};

function sendError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}

/** Fastify's `frameworkErrors` option: the router's refusals in the documented shape. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // No route ran, so no hook did: this answer sets the headers every other one gets from server.ts.
  reply.header("x-content-type-options", "nosniff").header("cache-control", "no-store");
  const known = FRAMEWORK_ERRORS[error.code];
  if (known) return sendError(reply, known.status, known.code, known.message);
  request.log.error({ err: error }, "request failed");
  return sendError(reply, 500, API_ERROR_CODES.INTERNAL, "internal error");
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError | SessionError, request, reply) => {
    if (error instanceof ApiError) return sendError(reply, error.statusCode, error.code, error.message);
    if (error instanceof SessionError) {
      const status = SESSION_STATUS[error.code] ?? 500;
      if (status < 500) return sendError(reply, status, error.code, error.message);
      request.log.error({ err: error }, "session store failed");
      return sendError(reply, status, error.code, PLAIN_MESSAGES[error.code] ?? "internal error");
    }
    if ("validation" in error && error.validation) {
      return sendError(reply, 400, API_ERROR_CODES.VALIDATION, error.message);
    }
    const status = (error as FastifyError).statusCode ?? 500;
    if (status < 500) return sendError(reply, status, (error as FastifyError).code ?? "ERR_REQUEST", error.message);
    request.log.error({ err: error }, "request failed");
    return sendError(reply, 500, API_ERROR_CODES.INTERNAL, "internal error");
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, API_ERROR_CODES.NOT_FOUND, `no route ${request.method} ${request.url}`),
  );
}
