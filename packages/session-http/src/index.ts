export { readCookie, replaceSetCookie, type SessionCookie, sessionCookie } from "./cookie.js";
export { type OriginFacts, originAllowed, parseAllowedOrigin } from "./csrf.js";
export { type DeviceFacts, describeUserAgent, deviceNameOf, deviceOf, type UserAgentLabels } from "./device-name.js";
export {
  type Caller,
  DEVICE_ROUTES,
  type DeviceView,
  deviceView,
  listDevices,
  logOutEverywhere,
  logOutOthers,
  revokeDevice,
} from "./devices.js";
export {
  type ErrorAnswer,
  type ErrorBody,
  errorBody,
  HTTP_ERROR_CODES,
  SessionHttpError,
  sessionErrorAnswer,
} from "./errors.js";
export type { SessionHttpOptions } from "./options.js";
export {
  callerOf,
  type LoggedIn,
  type LogInOptions,
  NO_SESSION_MESSAGE,
  type RequestFacts,
  type RequestSession,
  requireCaller,
  SessionHttp,
} from "./session-http.js";
export type {
  SessionData,
  SessionTypes,
  SessionUserInfo,
  TypedCreatedSession,
  TypedSession,
} from "./session-types.js";
export { type RequestToken, readToken, type TokenSource } from "./token.js";
