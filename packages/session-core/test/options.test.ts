import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULTS, InvalidOptionError, SessionStore, type SessionStoreOptions } from "../src/index.js";

// Clients that never connect: option validation must not need Redis.
const redis = new Redis({ lazyConnect: true });
const queue = new Queue("session-cleanup", {
  connection: new Redis({ lazyConnect: true, maxRetriesPerRequest: null }),
});
afterAll(async () => {
  redis.disconnect();
  await queue.close().catch(() => {});
});

function build(options: Partial<SessionStoreOptions>) {
  return () => new SessionStore({ redis, queue, ...options } as SessionStoreOptions);
}

describe("options", () => {
  it("fills in the documented defaults", () => {
    const store = new SessionStore({ redis, queue });
    const { prefix, ...numbers } = store.settings;
    expect(prefix).toBe(DEFAULTS.prefix);
    expect(numbers).toEqual({
      idleTimeoutMs: DEFAULTS.idleTimeoutMs,
      absoluteTimeoutMs: DEFAULTS.absoluteTimeoutMs,
      touchIntervalMs: DEFAULTS.touchIntervalMs,
      maxSessionsPerUser: 10,
      onLimit: "evict-oldest",
      maxDataBytes: 16 * 1024,
      keyGraceMs: DEFAULTS.keyGraceMs,
      enqueueTimeoutMs: DEFAULTS.enqueueTimeoutMs,
      maxPendingDeletionJobs: 10_000,
      durableRevocations: null,
    });
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });

  it("documents on each option's field the default DEFAULTS holds", () => {
    const source = readFileSync(new URL("../src/options.ts", import.meta.url), "utf8");
    const documented = new Map<string, string>();
    // "@default <value> (words)", closing the field's comment, then the field.
    for (const [, value, name] of source.matchAll(/@default (\S+)[^\n]*\n\s*\*\/\n\s*(\w+)\?:/g)) {
      documented.set(name as string, value as string);
    }
    for (const [name, value] of Object.entries(DEFAULTS)) {
      expect([name, JSON.parse(documented.get(name) ?? "null")]).toEqual([name, value]);
    }
  });

  it.each([
    ["idleTimeoutMs", { idleTimeoutMs: -5 }, "-5"],
    ["idleTimeoutMs", { idleTimeoutMs: 1.5 }, "1.5"],
    ["absoluteTimeoutMs", { absoluteTimeoutMs: "30d" }, '"30d"'],
    ["absoluteTimeoutMs", { idleTimeoutMs: 60_000, absoluteTimeoutMs: 1_000 }, "1000"],
    ["touchIntervalMs", { idleTimeoutMs: 60_000, touchIntervalMs: 60_000 }, "60000"],
    ["maxSessionsPerUser", { maxSessionsPerUser: 0 }, "0"],
    ["onLimit", { onLimit: "drop" }, '"drop"'],
    ["maxDataBytes", { maxDataBytes: Number.NaN }, "NaN"],
    ["prefix", { prefix: "app{1}:" }, '"app{1}:"'],
    ["prefix", { prefix: "line\nbreak" }, '"line\\nbreak"'],
    ["logger", { logger: { info() {} } }, "an object"],
    ["keyGraceMs", { keyGraceMs: -1 }, "-1"],
    ["maxPendingDeletionJobs", { maxPendingDeletionJobs: 0 }, "0"],
    ["maxPendingDeletionJobs", { maxPendingDeletionJobs: 2.5 }, "2.5"],
    ["durableRevocations", { durableRevocations: true }, "true"],
    ["durableRevocations", { durableRevocations: null }, "null"],
    ["durableRevocations.replicas", { durableRevocations: { timeoutMs: 100 } }, "undefined"],
    ["durableRevocations.replicas", { durableRevocations: { replicas: 0, timeoutMs: 100 } }, "0"],
    ["durableRevocations.timeoutMs", { durableRevocations: { replicas: 1, timeoutMs: 0 } }, "0"],
    ["durableRevocations.timeoutMs", { durableRevocations: { replicas: 1, timeoutMs: "1s" } }, '"1s"'],
  ] as [string, Record<string, unknown>, string][])(
    "rejects a bad %s, naming it and the value received",
    (option, bad, shown) => {
      const attempt = build(bad as Partial<SessionStoreOptions>);
      expect(attempt).toThrow(InvalidOptionError);
      try {
        attempt();
      } catch (error) {
        expect((error as InvalidOptionError).option).toBe(option);
        expect((error as Error).message).toContain(`options.${option}`);
        expect((error as Error).message).toContain(`received ${shown}`);
        expect((error as InvalidOptionError).code).toBe("ERR_INVALID_OPTION");
      }
    },
  );

  it("keeps durableRevocations as given, and opens no connection until a logout needs one", async () => {
    const store = new SessionStore({ redis, queue, durableRevocations: { replicas: 2, timeoutMs: 50 } });
    expect(store.settings.durableRevocations).toEqual({ replicas: 2, timeoutMs: 50 });
    await store.close();
  });

  it("requires an ioredis client and the session-cleanup queue", async () => {
    expect(() => new SessionStore({ queue } as unknown as SessionStoreOptions)).toThrow(/options\.redis/);
    expect(() => new SessionStore({ redis } as unknown as SessionStoreOptions)).toThrow(/options\.queue/);
    const other = new Queue("emails", { connection: new Redis({ lazyConnect: true, maxRetriesPerRequest: null }) });
    expect(() => new SessionStore({ redis, queue: other })).toThrow(/session-cleanup.*received a Queue named "emails"/);
    await other.close().catch(() => {});
  });
});
