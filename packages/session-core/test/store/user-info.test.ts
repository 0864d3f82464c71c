import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionNotFoundError } from "../../src/index.js";
import { openStore, type StoreContext } from "../support/store-context.js";

let ctx: StoreContext;
beforeEach(async () => {
  ctx = await openStore();
});
afterEach(() => ctx.close());

describe("setUserInfo", () => {
  it("is seen by every other session of the user on its next read, through any server", async () => {
    const phone = await ctx.store.create("ada", { device: { name: "phone" } });
    const laptop = await ctx.store.create("ada", { device: { name: "laptop" } });
    const otherServer = ctx.another();
    await ctx.store.setUserInfo("ada", phone.sessionId, { name: "Ada", plan: "pro" });
    expect((await otherServer.get("ada", laptop.sessionId)).userInfo).toEqual({ name: "Ada", plan: "pro" });
    expect((await otherServer.authenticate(phone.token)).userInfo).toEqual({ name: "Ada", plan: "pro" });
    expect((await otherServer.list("ada")).map((s) => s.userInfo)).toEqual([
      { name: "Ada", plan: "pro" },
      { name: "Ada", plan: "pro" },
    ]);
  });

  it("is stored once per user, not once per session", async () => {
    const a = await ctx.store.create("bo");
    await ctx.store.create("bo");
    await ctx.store.setUserInfo("bo", a.sessionId, { big: "x".repeat(1000) });
    const values = await ctx.redis.hvals(`${ctx.prefix}usersession:{bo}`);
    expect(values.filter((value) => value.includes("x".repeat(1000)))).toHaveLength(1);
  });

  it("never leaks to another user", async () => {
    const a = await ctx.store.create("cy");
    const b = await ctx.store.create("di");
    await ctx.store.setUserInfo("cy", a.sessionId, { secretNote: 1 });
    expect((await ctx.store.get("di", b.sessionId)).userInfo).toBeNull();
  });

  it("needs a live session of that user", async () => {
    const a = await ctx.store.create("ed");
    await expect(ctx.store.setUserInfo("fay", a.sessionId, { x: 1 })).rejects.toBeInstanceOf(SessionNotFoundError);
    await ctx.store.remove("ed", a.sessionId);
    await expect(ctx.store.setUserInfo("ed", a.sessionId, { x: 1 })).rejects.toBeInstanceOf(SessionNotFoundError);
  });

  it("last write wins when two devices change it concurrently", async () => {
    const a = await ctx.store.create("gil");
    const b = await ctx.store.create("gil");
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ctx.another().setUserInfo("gil", i % 2 ? a.sessionId : b.sessionId, { v: i }),
      ),
    );
    const seen = (await ctx.store.list("gil")).map((s) => s.userInfo);
    expect(seen[0]).toEqual(seen[1]);
    expect((seen[0] as { v: number }).v).toBeGreaterThanOrEqual(0);
  });
});
