/** One private redis-server for the whole run; tests keep apart by key prefix. */
import { provideRedisServer } from "@multisession/redis-server";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default provideRedisServer;
