/**
 * A vitest globalSetup body: one private redis-server for a whole test run,
 * its URL provided to tests as `inject("redisUrl")`. Tests keep apart by key
 * prefix. Packages use it from their own `test/support/global-redis.ts`.
 */
import { startRedisServer } from "./start-redis-server.js";

export async function provideRedisServer(project: { provide(key: "redisUrl", value: string): void }) {
  const server = await startRedisServer();
  project.provide("redisUrl", server.url);
  return () => server.stop();
}
