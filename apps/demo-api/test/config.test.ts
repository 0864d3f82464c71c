import { ConfigError } from "@multisession/service-kit";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

describe("configuration", () => {
  it("uses one Redis server by default, with BullMQ's own queue prefix", () => {
    expect(loadConfig({})).toMatchObject({
      redis: { cluster: false, url: "redis://127.0.0.1:6379" },
      sessionPrefix: "",
      queuePrefix: "bull",
    });
  });

  it("uses a Redis Cluster given REDIS_CLUSTER_NODES, with the queue's keys in one slot by default", () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: "127.0.0.1:7000,127.0.0.1:7001" })).toMatchObject({
      redis: {
        cluster: true,
        nodes: [
          { host: "127.0.0.1", port: 7000 },
          { host: "127.0.0.1", port: 7001 },
        ],
      },
      queuePrefix: "{bull}",
    });
  });

  it("waits for no replica by default, and for DURABLE_REVOCATION_REPLICAS when set", () => {
    expect(loadConfig({}).session.durableRevocations).toBeUndefined();
    expect(
      loadConfig({ DURABLE_REVOCATION_REPLICAS: "0", DURABLE_REVOCATION_TIMEOUT_MS: "90" }).session.durableRevocations,
    ).toBeUndefined();
    expect(loadConfig({ DURABLE_REVOCATION_REPLICAS: "2" }).session.durableRevocations).toEqual({
      replicas: 2,
      timeoutMs: 500,
    });
    expect(
      loadConfig({ DURABLE_REVOCATION_REPLICAS: "1", DURABLE_REVOCATION_TIMEOUT_MS: "2000" }).session
        .durableRevocations,
    ).toEqual({ replicas: 1, timeoutMs: 2_000 });
  });

  it.each([
    ["DURABLE_REVOCATION_REPLICAS", { DURABLE_REVOCATION_REPLICAS: "-1" }],
    ["DURABLE_REVOCATION_REPLICAS", { DURABLE_REVOCATION_REPLICAS: "101" }],
    ["DURABLE_REVOCATION_REPLICAS", { DURABLE_REVOCATION_REPLICAS: "one" }],
    ["DURABLE_REVOCATION_TIMEOUT_MS", { DURABLE_REVOCATION_TIMEOUT_MS: "0" }],
    ["DURABLE_REVOCATION_TIMEOUT_MS", { DURABLE_REVOCATION_TIMEOUT_MS: "60001" }],
    ["DURABLE_REVOCATION_TIMEOUT_MS", { DURABLE_REVOCATION_TIMEOUT_MS: "1.5" }],
    ["QUEUE_PREFIX", { REDIS_CLUSTER_NODES: "127.0.0.1:7000", QUEUE_PREFIX: "bull" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "127.0.0.1" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "127.0.0.1:7000", REDIS_URL: "redis://127.0.0.1:6379" }],
    ["SESSION_PREFIX", { SESSION_PREFIX: "{tag}:" }],
  ])("rejects a bad %s, naming it", (variable, env) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as Error).message.startsWith(variable)).toBe(true);
  });
});
