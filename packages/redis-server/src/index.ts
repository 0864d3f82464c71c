export { findFreePort } from "./free-port.js";
export { pingRedis } from "./ping.js";
export { NoRedisError, type ResolvedRedis, resolveRedis } from "./resolve-redis.js";
export {
  type RedisServer,
  type RedisServerOptions,
  RedisServerStartError,
  startRedisServer,
} from "./start-redis-server.js";
