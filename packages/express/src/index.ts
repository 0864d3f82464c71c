export {
  HTTP_ERROR_CODES,
  type LogInOptions,
  type SessionData,
  SessionHttpError,
  type SessionTypes,
  type SessionUserInfo,
  type TypedCreatedSession,
  type TypedSession,
} from "@multisession/session-http";
export { deviceRouter } from "./device-router.js";
export {
  type MultisessionMiddleware,
  multisession,
  type ResolvedSession,
  sessionStateOf,
} from "./middleware.js";
export { requireSession } from "./require-session.js";
export { type SessionErrorsOptions, sessionErrors } from "./session-errors.js";
