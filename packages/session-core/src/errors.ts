/**
 * Every error session-core throws. Each has a stable `code` that callers may
 * switch on and that never changes between releases; messages may. The codes
 * are listed in the README, and `test/errors.test.ts` keeps that list, this
 * file and the exports in step.
 */

export const ERROR_CODES = Object.freeze({
  SESSION_NOT_FOUND: "ERR_SESSION_NOT_FOUND",
  SESSION_EXPIRED: "ERR_SESSION_EXPIRED",
  SESSION_LIMIT: "ERR_SESSION_LIMIT",
  INVALID_INPUT: "ERR_INVALID_INPUT",
  INVALID_OPTION: "ERR_INVALID_OPTION",
  BACKEND: "ERR_SESSION_BACKEND",
  OUTCOME_UNKNOWN: "ERR_SESSION_OUTCOME_UNKNOWN",
  REVOCATION_NOT_REPLICATED: "ERR_REVOCATION_NOT_REPLICATED",
} as const);

export type SessionErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** The base of every session-core error. */
export class SessionError extends Error {
  readonly code: SessionErrorCode;
  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The session is unknown, was removed, revoked or evicted, or its record was corrupt. */
export class SessionNotFoundError extends SessionError {
  constructor(message = "session not found") {
    super(ERROR_CODES.SESSION_NOT_FOUND, message);
  }
}

/** The session existed but is past its idle or absolute expiry. Its deletion has been enqueued. */
export class SessionExpiredError extends SessionError {
  /** When the session expired, in ms since the epoch. */
  readonly expiredAt: number;
  constructor(expiredAt: number) {
    super(ERROR_CODES.SESSION_EXPIRED, `session expired at ${new Date(expiredAt).toISOString()}`);
    this.expiredAt = expiredAt;
  }
}

/** `create` was refused: the user already has `maxSessionsPerUser` live sessions and `onLimit` is `"reject"`. */
export class SessionLimitError extends SessionError {
  readonly limit: number;
  constructor(limit: number) {
    super(ERROR_CODES.SESSION_LIMIT, `user already has the maximum of ${limit} live sessions`);
    this.limit = limit;
  }
}

/** An argument is malformed. `field` names it (`userId`, `token`, `data.items[2]`, ...). */
export class InvalidInputError extends SessionError {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(ERROR_CODES.INVALID_INPUT, `${field} ${problem}`);
    this.field = field;
  }
}

/** A `SessionStore` option is wrong; thrown once, by the constructor. */
export class InvalidOptionError extends SessionError {
  readonly option: string;
  constructor(option: string, expected: string, received: unknown) {
    super(ERROR_CODES.INVALID_OPTION, `options.${option} must be ${expected} (received ${describe(received)})`);
    this.option = option;
  }
}

/** Redis failed or answered something session-core does not understand. `cause` holds the original error. */
export class SessionBackendError extends SessionError {
  /** The store method that failed (`create`, `remove`, ...). */
  readonly operation: string;
  constructor(
    operation: string,
    cause: unknown,
    code: typeof ERROR_CODES.BACKEND | typeof ERROR_CODES.OUTCOME_UNKNOWN = ERROR_CODES.BACKEND,
  ) {
    super(code, `${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.operation = operation;
  }
}

/**
 * A write was sent to Redis but its answer never came (a command timeout, a
 * dropped connection): Redis may or may not have carried it out. Read the
 * state again (`list`, `get`) before deciding; a logout can simply be sent
 * again. A SessionBackendError, so code that handles those handles this too.
 */
export class SessionOutcomeUnknownError extends SessionBackendError {
  constructor(operation: string, cause: unknown) {
    super(operation, cause, ERROR_CODES.OUTCOME_UNKNOWN);
  }
}

/**
 * With `durableRevocations` on: the logout (or rotation) was carried out on
 * the master, but fewer replicas than required acknowledged it within the
 * timeout. Until they do, a failover to a replica that lacks it would undo
 * it: the session could be served again. Sending the same call again is safe
 * and waits for the acknowledgement again (a repeated logout finds nothing
 * left to remove). `result` holds what the call would have returned; it is
 * not enumerable, so a logger serializing the error leaves it out (for
 * `rotate` it carries the new secret).
 */
export class RevocationNotReplicatedError extends SessionError {
  /** The store method (`remove`, `revoke`, `removeOthers`, `removeAll`, `rotate`). */
  readonly operation: string;
  /** Replicas that acknowledged the write in time. */
  readonly acknowledged: number;
  /** Replicas `durableRevocations.replicas` asks for. */
  readonly required: number;
  declare readonly result: unknown;
  constructor(operation: string, acknowledged: number, required: number, result: unknown) {
    super(
      ERROR_CODES.REVOCATION_NOT_REPLICATED,
      `${operation} was carried out, but ${acknowledged} of ${required} required replicas acknowledged it in time`,
    );
    this.operation = operation;
    this.acknowledged = acknowledged;
    this.required = required;
    Object.defineProperty(this, "result", { value: result, enumerable: false });
  }
}

/**
 * The HTTP status an API answers for each code: what the framework plugins
 * use, and what a server with its own glue should use too. Keyed by every
 * code, so a new code cannot ship without its status.
 */
export const HTTP_STATUS_OF_CODE: Readonly<Record<SessionErrorCode, number>> = Object.freeze({
  // Unknown, revoked, expired: the caller must log in (again).
  [ERROR_CODES.SESSION_NOT_FOUND]: 401,
  [ERROR_CODES.SESSION_EXPIRED]: 401,
  // The user already has the most sessions allowed (onLimit "reject"): the request conflicts with that state.
  [ERROR_CODES.SESSION_LIMIT]: 409,
  [ERROR_CODES.INVALID_INPUT]: 400,
  // The server's own configuration is wrong: nothing the caller can change.
  [ERROR_CODES.INVALID_OPTION]: 500,
  // Redis is failing, or the outcome or its replication is unknown: try again later.
  [ERROR_CODES.BACKEND]: 503,
  [ERROR_CODES.OUTCOME_UNKNOWN]: 503,
  [ERROR_CODES.REVOCATION_NOT_REPLICATED]: 503,
});

/**
 * The HTTP status for anything a session-core call threw: its code's status
 * (HTTP_STATUS_OF_CODE), and 500 for any other error.
 */
export function httpStatusOf(error: unknown): number {
  return error instanceof SessionError ? HTTP_STATUS_OF_CODE[error.code] : 500;
}

/** A short, safe rendering of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string")
    return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    if (!name || name === "Object") return "an object";
    const label = (value as { name?: unknown }).name;
    return typeof label === "string" ? `a ${name} named ${JSON.stringify(label)}` : `a ${name}`;
  }
  return typeof value;
}
