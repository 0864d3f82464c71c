export { closeRedis, settlesWithin } from "./close.js";
export {
  type ClusterNode,
  ConfigError,
  DEFAULT_QUEUE_PREFIX,
  hasHashTag,
  loadOrExit,
  type RedisTarget,
  readCommandTimeout,
  readInteger,
  readLogLevel,
  readQueuePrefix,
  readRedisTarget,
  readRedisUrl,
  readSessionPrefix,
  readString,
} from "./env.js";
export { gracefulClose } from "./http.js";
export { createLogger, LOG_LEVELS, type LogLevel } from "./logger.js";
export {
  type ConnectRedisOptions,
  clusterStateOk,
  connectRedis,
  queueClusterOptions,
  type RedisClient,
  type RedisConnections,
  redisAnswers,
  sessionClusterOptions,
} from "./redis.js";
export {
  type CloseOnSignalsOptions,
  type CloseStep,
  type CloseStepsOutcome,
  closeOnSignals,
  runCloseSteps,
  ShutdownDeadlineError,
} from "./shutdown.js";
