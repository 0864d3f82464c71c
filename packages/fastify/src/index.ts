export { HTTP_ERROR_CODES, type LogInOptions, SessionHttpError } from "@multisession/session-http";
export { deviceRoutes } from "./device-routes.js";
export {
  type MultisessionOptions,
  multisession,
  multisession as default,
  requestFacts,
  sendSessionError,
  sessionStateOf,
} from "./plugin.js";
export { requireSession } from "./require-session.js";
