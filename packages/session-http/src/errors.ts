/**
 * How a refusal reads over HTTP. Every error answer is
 * `{ error: { code, message } }` with the status session-core's
 * `httpStatusOf` gives its code; the HTTP layer adds two codes of its own,
 * listed in HTTP_ERROR_CODES. A 5xx answer says what kind of failure it was
 * and nothing more: Redis's own text goes to the log, never to the client.
 */
import { ERROR_CODES, httpStatusOf, SessionError } from "@multisession/session-core";

export const HTTP_ERROR_CODES = Object.freeze({
  /** A cookie-authenticated write, or a login, came from another origin (CSRF defence). 403. */
  FORBIDDEN_ORIGIN: "ERR_FORBIDDEN_ORIGIN",
  /** The handle names no device among the caller's. 404. */
  DEVICE_NOT_FOUND: "ERR_DEVICE_NOT_FOUND",
});

/** A refusal of the HTTP layer: its status and stable `code` travel with it. */
export class SessionHttpError extends Error {
  override readonly name = "SessionHttpError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string };
}

export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  /** True for a failure the server should log (5xx): the client was told only its kind. */
  log: boolean;
}

/** What a client reads for a failure of the store: what happened and what to do, never the backend's own text. */
const PLAIN_MESSAGES: Record<string, string> = {
  [ERROR_CODES.BACKEND]: "the session store is unavailable; try again shortly",
  [ERROR_CODES.OUTCOME_UNKNOWN]: "the session store may or may not have done this; check, or send it again",
  [ERROR_CODES.REVOCATION_NOT_REPLICATED]:
    "done on the primary session store, but its replicas did not confirm it in time; a failover could undo it",
  [ERROR_CODES.INVALID_OPTION]: "the server's session settings are wrong",
};

/**
 * The answer for `error`: session-core's errors by `httpStatusOf`, the HTTP
 * layer's own by their status, anything else as a 500. Null for an error
 * neither layer knows, so a framework's own handler can take it.
 */
export function sessionErrorAnswer(error: unknown): ErrorAnswer | null {
  if (error instanceof SessionHttpError) {
    return { status: error.statusCode, body: errorBody(error.code, error.message), log: error.statusCode >= 500 };
  }
  if (error instanceof SessionError) {
    const status = httpStatusOf(error);
    if (status < 500) return { status, body: errorBody(error.code, error.message), log: false };
    return { status, body: errorBody(error.code, PLAIN_MESSAGES[error.code] ?? "internal error"), log: true };
  }
  return null;
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
