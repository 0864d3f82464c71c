import { afterEach, describe, expect, it } from "vitest";
import { SessionLimitError, SessionNotFoundError } from "../../src/index.js";
import { forEachTopology, openStore, type StoreContext, sleep } from "../support/store-context.js";

forEachTopology((topology) => {
  let ctx: StoreContext;
  afterEach(() => ctx.close());

  describe("maxSessionsPerUser", () => {
    it("evict-oldest: 50 concurrent logins from 50 servers leave exactly the limit, all usable", async () => {
      ctx = await openStore({ maxSessionsPerUser: 5 }, topology);
      const servers = Array.from({ length: 50 }, () => ctx.another());
      const results = await Promise.all(servers.map((server, i) => server.create("crowd", { data: { i } })));
      const live = await ctx.store.list("crowd");
      expect(live).toHaveLength(5);
      expect(await ctx.redis.hlen(`${ctx.prefix}usersession:{crowd}`)).toBe(5);
      // Everyone whose session is listed can use it; everyone else was evicted.
      const listed = new Set(live.map((s) => s.handle));
      for (const { sessionId, session } of results) {
        const read = ctx.store.get("crowd", sessionId);
        if (listed.has(session.handle)) await expect(read).resolves.toBeTruthy();
        else await expect(read).rejects.toBeInstanceOf(SessionNotFoundError);
      }
    });

    it("evict-oldest removes the least recently seen session", async () => {
      ctx = await openStore({ maxSessionsPerUser: 3, touchIntervalMs: 0 }, topology);
      const first = await ctx.store.create("lru");
      await sleep(3);
      const second = await ctx.store.create("lru");
      await sleep(3);
      const third = await ctx.store.create("lru");
      await sleep(3);
      await ctx.store.get("lru", first.sessionId); // first is now the most recently seen
      await ctx.store.create("lru");
      await expect(ctx.store.get("lru", second.sessionId)).rejects.toBeInstanceOf(SessionNotFoundError);
      await expect(ctx.store.get("lru", first.sessionId)).resolves.toBeTruthy();
      await expect(ctx.store.get("lru", third.sessionId)).resolves.toBeTruthy();
      expect(ctx.logs.some((line) => line.msg.includes("evicted"))).toBe(true);
    });

    it("reject: 50 concurrent logins from 50 servers, exactly the limit succeed", async () => {
      ctx = await openStore({ maxSessionsPerUser: 7, onLimit: "reject" }, topology);
      const servers = Array.from({ length: 50 }, () => ctx.another());
      const results = await Promise.allSettled(servers.map((server) => server.create("gate")));
      const ok = results.filter((r) => r.status === "fulfilled");
      const refused = results.filter((r) => r.status === "rejected");
      expect(ok).toHaveLength(7);
      expect(refused).toHaveLength(43);
      for (const r of refused) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SessionLimitError);
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "ERR_SESSION_LIMIT", limit: 7 });
      }
      expect(await ctx.store.list("gate")).toHaveLength(7);
    });

    it("expired sessions do not count towards the limit", async () => {
      ctx = await openStore(
        { maxSessionsPerUser: 2, onLimit: "reject", idleTimeoutMs: 1_000, touchIntervalMs: 0 },
        topology,
      );
      await ctx.store.create("stale");
      await ctx.store.create("stale");
      await expect(ctx.store.create("stale")).rejects.toBeInstanceOf(SessionLimitError);
      await sleep(1_100);
      await expect(ctx.store.create("stale")).resolves.toBeTruthy();
      expect(await ctx.redis.hlen(`${ctx.prefix}usersession:{stale}`)).toBe(1);
    });

    it("the limit is per user", async () => {
      ctx = await openStore({ maxSessionsPerUser: 1, onLimit: "reject" }, topology);
      await ctx.store.create("one");
      await expect(ctx.store.create("two")).resolves.toBeTruthy();
    });
  });
});
