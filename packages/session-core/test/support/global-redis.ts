/** Starts one private redis-server for the whole run; tests keep apart by key prefix. */
import { startRedisServer } from "@multisession/redis-server";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startRedisServer();
  project.provide("redisUrl", server.url);
  return () => server.stop();
}
