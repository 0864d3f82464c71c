export { type RedisFaultProxy, startRedisFaultProxy } from "./fault-proxy.js";
export { findFreePort } from "./free-port.js";
export { pingRedis } from "./ping.js";
export { NoRedisError, type ResolvedRedis, type ResolveRedisOptions, resolveRedis } from "./resolve-redis.js";
export {
  type RedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
  type RedisClusterShard,
  startRedisCluster,
} from "./start-redis-cluster.js";
export {
  type RedisServer,
  type RedisServerOptions,
  RedisServerStartError,
  startRedisServer,
} from "./start-redis-server.js";
export { provideRedisServer } from "./vitest-setup.js";
