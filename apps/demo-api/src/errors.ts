/**
 * Every error answer is `{ error: { code, message } }`. Session problems carry
 * session-core's own codes; the demo adds a few of its own, listed here.
 */
import { SessionError } from "@multisession/session-core";
import type { FastifyError, FastifyInstance } from "fastify";

export const API_ERROR_CODES = Object.freeze({
  BAD_CREDENTIALS: "ERR_BAD_CREDENTIALS",
  VALIDATION: "ERR_VALIDATION",
  NOT_FOUND: "ERR_NOT_FOUND",
  FORBIDDEN_ORIGIN: "ERR_FORBIDDEN_ORIGIN",
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
  ERR_SESSION_NOT_FOUND: 401,
  ERR_SESSION_EXPIRED: 401,
  ERR_INVALID_INPUT: 400,
  ERR_SESSION_LIMIT: 429,
  ERR_SESSION_BACKEND: 503,
  ERR_SESSION_OUTCOME_UNKNOWN: 503,
};

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError | SessionError, request, reply) => {
    if (error instanceof ApiError) {
      return reply.code(error.statusCode).send({ error: { code: error.code, message: error.message } });
    }
    if (error instanceof SessionError) {
      const status = SESSION_STATUS[error.code] ?? 500;
      if (status >= 500) request.log.error({ err: error }, "session store failed");
      return reply.code(status).send({ error: { code: error.code, message: error.message } });
    }
    if ("validation" in error && error.validation) {
      return reply.code(400).send({ error: { code: API_ERROR_CODES.VALIDATION, message: error.message } });
    }
    const status = (error as FastifyError).statusCode ?? 500;
    if (status < 500) {
      return reply
        .code(status)
        .send({ error: { code: (error as FastifyError).code ?? "ERR_REQUEST", message: error.message } });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: { code: API_ERROR_CODES.INTERNAL, message: "internal error" } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: API_ERROR_CODES.NOT_FOUND, message: `no route ${request.method} ${request.url}` } }),
  );
}
