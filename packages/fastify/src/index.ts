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
export { deviceRoutes } from "./device-routes.js";
export {
  type MultisessionOptions,
  multisession,
  multisession as default,
  sendSessionError,
  sessionStateOf,
} from "./plugin.js";
export { requireSession } from "./require-session.js";
