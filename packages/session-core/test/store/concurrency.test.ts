/**
 * Many API servers (each its own connection) hammering the same users at once.
 * Invariants checked: no live session lost, no expired session served, no key
 * left without a TTL, the per-user limit never exceeded.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SessionExpiredError,
  SessionLimitError,
  SessionNotFoundError,
  type SessionStore,
  userKey,
} from "../../src/index.js";
import { forEachTopology, openStore, type StoreContext } from "../support/store-context.js";

const SERVERS = 12;
const USERS = 20;
const STABLE_PER_USER = 3;
const LIMIT = 8;
const ROUNDS = 1_200;

forEachTopology((topology) => {
  let ctx: StoreContext;
  let servers: SessionStore[];
  const stable = new Map<string, { userId: string; sessionId: string; token: string }>();
  const removed: { userId: string; sessionId: string }[] = [];
  const failures: string[] = [];
  let maxListed = 0;
  let servedExpired = 0;
  let reads = 0;

  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;

  beforeAll(async () => {
    ctx = await openStore(
      { maxSessionsPerUser: LIMIT, onLimit: "reject", idleTimeoutMs: 5_000, touchIntervalMs: 0 },
      topology,
    );
    servers = Array.from({ length: SERVERS }, () => ctx.another());
    const userIds = Array.from({ length: USERS }, (_, i) => `conc-${i}`);
    for (const userId of userIds) {
      for (let i = 0; i < STABLE_PER_USER; i++) {
        const created = await ctx.store.create(userId, { device: { name: `stable-${i}` } });
        stable.set(created.session.handle, { userId, sessionId: created.sessionId, token: created.token });
      }
    }
    const stableList = [...stable.values()];

    // Each worker loop plays one server doing random work; all run at once.
    await Promise.all(
      servers.map(async (server) => {
        for (let round = 0; round < ROUNDS / SERVERS; round++) {
          const userId = pick(userIds);
          const op = Math.random();
          try {
            if (op < 0.35) {
              // churn: log in and out again, or get refused at the limit
              const created = await server.create(userId, { device: { name: "churn" } });
              if (Math.random() < 0.5) {
                await server.remove(userId, created.sessionId);
                removed.push({ userId, sessionId: created.sessionId });
              } else {
                const list = await server.list(userId);
                const churn = list.find((s) => s.device.name === "churn");
                if (churn && (await server.revoke(userId, churn.handle))) {
                  // revoked someone's churn session; we only track that the stable ones survive
                }
              }
            } else if (op < 0.75) {
              const s = pick(stableList);
              const start = Date.now();
              const session = await server.authenticate(s.token);
              reads++;
              if (session.expiresAt <= start) servedExpired++;
            } else if (op < 0.85) {
              const s = pick(stableList);
              await server.setUserInfo(s.userId, s.sessionId, { by: s.sessionId.length, at: Date.now() });
            } else {
              const list = await server.list(userId);
              maxListed = Math.max(maxListed, list.length);
            }
          } catch (error) {
            if (!(error instanceof SessionLimitError)) failures.push(String(error));
          }
        }
      }),
    );
  });
  afterAll(() => ctx.close());

  describe("under many concurrent servers", () => {
    it("no operation failed except limit refusals", () => {
      expect(failures).toEqual([]);
      expect(reads).toBeGreaterThan(50);
    });

    it("no live session was lost", async () => {
      for (const { userId, sessionId } of stable.values()) {
        await expect(ctx.store.get(userId, sessionId)).resolves.toMatchObject({ userId });
      }
    });

    it("removed sessions stay removed", async () => {
      for (const { userId, sessionId } of removed) {
        await expect(ctx.store.get(userId, sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
      }
    });

    it("no expired session was served", () => {
      expect(servedExpired).toBe(0);
    });

    it("the limit was never exceeded", async () => {
      expect(maxListed).toBeLessThanOrEqual(LIMIT);
      for (let i = 0; i < USERS; i++) {
        const fields = await ctx.redis.hkeys(userKey(ctx.prefix, `conc-${i}`));
        expect(fields.filter((f) => f !== "#info").length).toBeLessThanOrEqual(LIMIT);
      }
    });

    it("no key was left without a TTL", async () => {
      for (let i = 0; i < USERS; i++) {
        expect(await ctx.redis.pttl(userKey(ctx.prefix, `conc-${i}`))).toBeGreaterThan(0);
      }
    });

    it("expired sessions are refused to every server at once", async () => {
      const short = ctx.another({ idleTimeoutMs: 200, touchIntervalMs: 0 });
      const { sessionId } = await short.create("conc-expiring");
      await new Promise((resolve) => setTimeout(resolve, 250));
      const results = await Promise.allSettled(servers.map((server) => server.get("conc-expiring", sessionId)));
      expect(results.every((r) => r.status === "rejected" && r.reason instanceof SessionExpiredError)).toBe(true);
    });
  });
});
