/**
 * Every error answer is `{ error: { code, message } }`, the router's own
 * refusals (a malformed URL, a too-long parameter) included. Session problems
 * are answered as @multisession/fastify answers them (session-core's codes,
 * with the status `httpStatusOf` gives, and the plugin's
 * ERR_FORBIDDEN_ORIGIN and ERR_DEVICE_NOT_FOUND); the demo adds a few codes
 * of its own, listed here. A 5xx answer says what kind of failure it was
 * and nothing more: the backend's text (Redis's error, a script SHA or Lua
 * line, ioredis's retry message) goes to the log line, with the request id,
 * never to the client.
 */
import { sendSessionError } from "@multisession/fastify";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export const API_ERROR_CODES = Object.freeze({
  BAD_CREDENTIALS: "ERR_BAD_CREDENTIALS",
  VALIDATION: "ERR_VALIDATION",
  NOT_FOUND: "ERR_NOT_FOUND",
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
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) return sendError(reply, error.statusCode, error.code, error.message);
    // Session errors, session-core's and the plugin's, as the plugin answers them: httpStatusOf(error), and
    // for a 5xx the kind of failure only (the error itself goes to the log).
    if (sendSessionError(error, request, reply)) return reply;
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
