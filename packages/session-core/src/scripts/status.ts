/**
 * The status every script replies with first, and the one place a status
 * becomes an error (as BullMQ's finished-errors.ts does for its scripts).
 * A reply is an array: `{ status, ...payload }`; OK carries the result, the
 * negative ones stand for the errors below.
 */
import {
  SessionBackendError,
  type SessionError,
  SessionExpiredError,
  SessionLimitError,
  SessionNotFoundError,
} from "../errors.js";

export const SCRIPT_STATUS = Object.freeze({
  OK: 0,
  /** No such session (unknown, removed or rotated secret). */
  NOT_FOUND: -1,
  /** The session has expired: `{ -2, expiresAt }`. */
  EXPIRED: -2,
  /** The user has the maximum of live sessions and onLimit is "reject": `{ -3, liveCount }`. */
  LIMIT: -3,
  /** The record could not be read; the script deleted it. To the caller it is no session. */
  CORRUPT: -4,
});

/** A script's reply: its status, then what that status carries. */
export type ScriptReply = [status: number, ...payload: unknown[]];

/** What a status needs from the store to become an error. */
export interface StatusContext {
  operation: string;
  maxSessionsPerUser: number;
}

/** An answer that is no script reply at all, reported with what came (cut short). */
export function unexpectedReply(operation: string, reply: unknown): SessionBackendError {
  return new SessionBackendError(
    operation,
    new Error(`unexpected script reply ${JSON.stringify(reply)?.slice(0, 200)}`),
  );
}

/** The error a non-OK reply stands for. */
export function errorOfStatus(reply: ScriptReply, context: StatusContext): SessionError {
  switch (reply[0]) {
    case SCRIPT_STATUS.NOT_FOUND:
    case SCRIPT_STATUS.CORRUPT:
      return new SessionNotFoundError();
    case SCRIPT_STATUS.EXPIRED:
      return new SessionExpiredError(Number(reply[1]));
    case SCRIPT_STATUS.LIMIT:
      return new SessionLimitError(context.maxSessionsPerUser);
    default:
      return unexpectedReply(context.operation, reply);
  }
}

/** The reply as a ScriptReply: an array led by a numeric status; anything else is a SessionBackendError. */
export function asScriptReply(operation: string, reply: unknown): ScriptReply {
  if (!Array.isArray(reply) || typeof reply[0] !== "number") throw unexpectedReply(operation, reply);
  return reply as ScriptReply;
}
