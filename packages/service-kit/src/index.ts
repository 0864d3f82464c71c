export { closeRedis, settlesWithin } from "./close.js";
export {
  ConfigError,
  loadOrExit,
  readCommandTimeout,
  readInteger,
  readLogLevel,
  readRedisUrl,
  readString,
} from "./env.js";
export { gracefulClose } from "./http.js";
export { createLogger, LOG_LEVELS, type LogLevel } from "./logger.js";
export { type ConnectRedisOptions, connectRedis, redisAnswers } from "./redis.js";
export { type CloseOnSignalsOptions, type CloseStep, closeOnSignals, ShutdownDeadlineError } from "./shutdown.js";
