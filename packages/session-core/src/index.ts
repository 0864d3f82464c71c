export type { SweepStepResult } from "./cleanup.js";
export {
  CLEANUP_QUEUE_NAME,
  DELETE_EXPIRED_SESSION_JOB,
  DELETE_EXPIRED_SESSION_JOB_OPTIONS,
  type DeleteExpiredSessionJobData,
  deduplicationIdOf,
} from "./cleanup-job.js";
export {
  ERROR_CODES,
  HTTP_STATUS_OF_CODE,
  httpStatusOf,
  InvalidInputError,
  InvalidOptionError,
  RevocationNotReplicatedError,
  SessionBackendError,
  SessionError,
  type SessionErrorCode,
  SessionExpiredError,
  SessionLimitError,
  SessionNotFoundError,
  SessionOutcomeUnknownError,
} from "./errors.js";
export { activityShardKey, legacyActivityKey, MAX_USER_ID_LENGTH, SLOT_COUNT, slotOf, userKey } from "./keys.js";
export { INPUT_LIMITS } from "./limits.js";
export {
  DEFAULTS,
  type DurableRevocations,
  type LimitPolicy,
  reconnectDelayMs,
  SESSION_CONNECTION_OPTIONS,
  type SessionLogger,
  type SessionStoreOptions,
} from "./options.js";
export { DEVICE_FIELD_LIMITS, type Device, type JsonValue } from "./payload.js";
export { decodeHeader, decodeRecord, encodeRecord, type RecordHeader, type Session } from "./record.js";
export {
  type AnySessionStore,
  type CreatedSession,
  type CreateSessionArgs,
  type CreateSessionInput,
  SessionStore,
} from "./store.js";
export { parseToken, sessionKeyOf } from "./token.js";
