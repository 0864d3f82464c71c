import { ConfigError, hasHashTag } from "@multisession/service-kit";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { spawnWorker } from "./support/worker.js";

describe("configuration", () => {
  it("has defaults for everything", () => {
    expect(loadConfig({})).toMatchObject({
      redis: { cluster: false, url: "redis://127.0.0.1:6379" },
      sessionPrefix: "",
      queuePrefix: "bull",
      sweepCron: "* * * * *",
      sweepBatchSize: 500,
      sweepConcurrency: 1,
      sweepDutyPercent: 50,
      sweepSlotGroups: 16,
      concurrency: 10,
      httpPort: 8081,
      logLevel: "info",
      dashboard: null,
      production: false,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      REDIS_URL: "rediss://cache:6380",
      SESSION_PREFIX: "app:",
      QUEUE_PREFIX: "q",
      SWEEP_CRON: "*/10 * * * * *",
      SWEEP_BATCH_SIZE: "100",
      SWEEP_CONCURRENCY: "32",
      SWEEP_DUTY_PERCENT: "100",
      SWEEP_BUDGET_MS: "5000",
      SWEEP_LEASE_MS: "15000",
      SWEEP_SLOT_GROUPS: "64",
      CONCURRENCY: "4",
      HTTP_PORT: "9000",
      LOG_LEVEL: "debug",
      DASHBOARD_USER: "ops",
      DASHBOARD_PASSWORD: "long enough",
      NODE_ENV: "production",
    });
    expect(config).toMatchObject({
      redis: { cluster: false, url: "rediss://cache:6380" },
      sessionPrefix: "app:",
      queuePrefix: "q",
      sweepCron: "*/10 * * * * *",
      sweepBatchSize: 100,
      sweepConcurrency: 32,
      sweepDutyPercent: 100,
      sweepBudgetMs: 5000,
      sweepLeaseMs: 15000,
      sweepSlotGroups: 64,
      concurrency: 4,
      httpPort: 9000,
      logLevel: "debug",
      dashboard: { user: "ops", password: "long enough" },
      production: true,
    });
  });

  it("takes SWEEP_SLOT_GROUPS from 1 to 1024", () => {
    expect(loadConfig({ SWEEP_SLOT_GROUPS: "1" }).sweepSlotGroups).toBe(1);
    expect(loadConfig({ SWEEP_SLOT_GROUPS: "1024" }).sweepSlotGroups).toBe(1_024);
  });

  it("takes a Redis Cluster's nodes from REDIS_CLUSTER_NODES, and puts the queue's keys in one slot by default", () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: " 10.0.0.1:7000, redis-2.internal:7001,[::1]:7002 " });
    expect(config.redis).toEqual({
      cluster: true,
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "redis-2.internal", port: 7001 },
        { host: "::1", port: 7002 },
      ],
    });
    expect(config.queuePrefix).toBe("{bull}");
    expect(loadConfig({ REDIS_CLUSTER_NODES: "a:1", QUEUE_PREFIX: "app:{jobs}" }).queuePrefix).toBe("app:{jobs}");
  });

  it.each([
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "a:1,b" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "a:1,,b:2" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "redis://a:1" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "a:70000" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "a:1", REDIS_URL: "redis://a:1" }],
    ["QUEUE_PREFIX", { REDIS_CLUSTER_NODES: "a:1", QUEUE_PREFIX: "bull" }],
    ["QUEUE_PREFIX", { REDIS_CLUSTER_NODES: "a:1", QUEUE_PREFIX: "{}bull" }],
    ["QUEUE_PREFIX", { REDIS_CLUSTER_NODES: "a:1", QUEUE_PREFIX: "bull}{" }],
    ["SESSION_PREFIX", { SESSION_PREFIX: "app:{x}:" }],
    ["SESSION_PREFIX", { SESSION_PREFIX: "a".repeat(65) }],
    ["SWEEP_CRON", { SWEEP_CRON: "every minute" }],
    ["SWEEP_CRON", { SWEEP_CRON: "61 * * * *" }],
    ["SWEEP_BATCH_SIZE", { SWEEP_BATCH_SIZE: "0" }],
    ["SWEEP_BATCH_SIZE", { SWEEP_BATCH_SIZE: "12abc" }],
    ["SWEEP_BUDGET_MS", { SWEEP_BUDGET_MS: "-1" }],
    ["SWEEP_CONCURRENCY", { SWEEP_CONCURRENCY: "0" }],
    ["SWEEP_DUTY_PERCENT", { SWEEP_DUTY_PERCENT: "0" }],
    ["SWEEP_DUTY_PERCENT", { SWEEP_DUTY_PERCENT: "101" }],
    ["SWEEP_SLOT_GROUPS", { SWEEP_SLOT_GROUPS: "0" }],
    ["SWEEP_SLOT_GROUPS", { SWEEP_SLOT_GROUPS: "1025" }],
    ["SWEEP_SLOT_GROUPS", { SWEEP_SLOT_GROUPS: "sixteen" }],
    ["CONCURRENCY", { CONCURRENCY: "1.5" }],
    ["HTTP_PORT", { HTTP_PORT: "70000" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["REDIS_URL", { REDIS_URL: "localhost:6379" }],
    ["REDIS_URL", { REDIS_URL: "http://localhost:6379" }],
    ["DASHBOARD_PASSWORD", { DASHBOARD_USER: "ops" }],
    ["DASHBOARD_USER", { DASHBOARD_PASSWORD: "long enough" }],
    ["DASHBOARD_PASSWORD", { DASHBOARD_USER: "ops", DASHBOARD_PASSWORD: "short" }],
  ])("rejects a bad %s, naming it", (variable, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as Error).message.startsWith(variable)).toBe(true);
    }
  });

  it("a bad SWEEP_CRON stops start-up with one clear message", async () => {
    const worker = spawnWorker({ SWEEP_CRON: "every minute", REDIS_URL: "redis://127.0.0.1:1" });
    expect(await worker.exited).toBe(78);
    expect(worker.stderr().trim()).toBe(
      'multisession worker: invalid configuration: SWEEP_CRON is not a valid cron expression (received "every minute")',
    );
    expect(worker.logs).toEqual([]);
  });
});

describe("the queue prefix's hash tag, by Redis's rule (service-kit's hasHashTag, used by the bin and startCleanupWorker)", () => {
  it.each([
    ["{bull}", true],
    ["app{q}:", true],
    ["{}x{a}", false],
    ["{", false],
    ["bull", false],
  ])("%s has a hash tag: %s", (prefix, expected) => {
    expect(hasHashTag(prefix)).toBe(expected);
  });
});
