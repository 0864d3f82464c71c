/**
 * SessionStore's type parameters: `data` and user info typed end to end, and
 * the defaults keeping the untyped API as it was. The type assertions
 * (expectTypeOf, @ts-expect-error) are checked by the package's typecheck;
 * the run checks that the values behind them are what the types say.
 */
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import {
  type AnySessionStore,
  type CreatedSession,
  type JsonValue,
  type Session,
  SessionStore,
  type SessionStoreOptions,
} from "../../src/index.js";
import { forEachTopology, openStore, type StoreContext } from "../support/store-context.js";

interface Prefs {
  locale: string;
  theme?: "light" | "dark";
}

interface Profile {
  name: string;
  plan: "free" | "pro";
}

forEachTopology((topology) => {
  let ctx: StoreContext;
  let store: SessionStore<Prefs, Profile>;
  beforeEach(async () => {
    ctx = await openStore({}, topology);
    const { redis, queue, prefix } = ctx;
    store = new SessionStore<Prefs, Profile>({ redis, queue, prefix });
  });
  afterEach(() => ctx.close());

  describe("a store typed with interfaces", () => {
    it("types data and user info in what every method takes and returns", async () => {
      const created = await store.create("typed", {
        data: { locale: "en" },
        userInfo: { name: "Ada", plan: "free" },
      });
      expectTypeOf(created).toEqualTypeOf<CreatedSession<Prefs, Profile>>();
      expectTypeOf(created.session.data.locale).toEqualTypeOf<string>();
      expectTypeOf(created.session.userInfo).toEqualTypeOf<Profile | null>();
      expect(created.session.data.locale).toBe("en");

      const read = await store.authenticate(created.token);
      expectTypeOf(read).toEqualTypeOf<Session<Prefs, Profile>>();
      expect(read.userInfo?.plan).toBe("free");

      const updated = await store.updateData("typed", created.sessionId, { locale: "fr", theme: "dark" });
      expectTypeOf(updated.data.theme).toEqualTypeOf<"light" | "dark" | undefined>();
      expect(updated.data).toEqual({ locale: "fr", theme: "dark" });

      expect(await store.updateUserInfo("typed", { name: "Ada", plan: "pro" })).toBe(true);
      const info = await store.getUserInfo("typed");
      expectTypeOf(info).toEqualTypeOf<Profile | null>();
      expect(info?.plan).toBe("pro");

      const [listed] = await store.list("typed");
      expectTypeOf(listed).toEqualTypeOf<Session<Prefs, Profile> | undefined>();
      expect(listed?.data.theme).toBe("dark");

      const rotated = await store.rotate("typed", created.sessionId);
      expectTypeOf(rotated.session.data).toEqualTypeOf<Prefs>();
      await store.setUserInfo("typed", rotated.sessionId, { name: "Ada L.", plan: "pro" });
      expect((await store.get("typed", rotated.sessionId)).userInfo?.name).toBe("Ada L.");
    });

    it("requires data when {} is not a valid Data, and refuses values of the wrong type", async () => {
      // @ts-expect-error `locale` is required, so a session without data would not hold a Prefs
      await expect(store.create("strict")).resolves.toBeDefined();
      // @ts-expect-error likewise with an input that leaves data out
      await expect(store.create("strict", { device: { name: "x" } })).resolves.toBeDefined();
      const { sessionId } = await store.create("strict", { data: { locale: "en" } });
      // @ts-expect-error a number is no Prefs
      await expect(store.updateData("strict", sessionId, 42)).resolves.toBeDefined();
      // @ts-expect-error "gold" is no plan
      await expect(store.updateUserInfo("strict", { name: "B", plan: "gold" })).resolves.toBe(true);
    });

    it("is an AnySessionStore, what code taking any caller's store accepts", async () => {
      expectTypeOf<SessionStore<Prefs, Profile>>().toExtend<AnySessionStore>();
      expectTypeOf<SessionStore>().toExtend<AnySessionStore>();
      // Not a plain SessionStore: an interface is no JsonValue (hence AnySessionStore).
      expectTypeOf<SessionStore<Prefs, Profile>>().not.toExtend<SessionStore>();
      const any: AnySessionStore = store;
      const { session } = await any.create("any", { data: { locale: "en" } });
      expect(session.data).toEqual({ locale: "en" });
    });

    it("lets data be left out when every field of Data is optional", async () => {
      const { redis, queue, prefix } = ctx;
      const optional = new SessionStore<{ locale?: string }>({ redis, queue, prefix });
      const { session } = await optional.create("optional");
      expect(session.data).toEqual({});
      expectTypeOf(session.data).toEqualTypeOf<{ locale?: string }>();
    });
  });

  describe("a store without type arguments", () => {
    it("keeps the JSON types callers had before, data optional", async () => {
      const untyped = ctx.store;
      expectTypeOf(untyped).toEqualTypeOf<SessionStore>();
      expectTypeOf(untyped).toEqualTypeOf<SessionStore<JsonValue, JsonValue>>();
      const { session, sessionId } = await untyped.create("plain");
      expectTypeOf(session.data).toEqualTypeOf<JsonValue>();
      expectTypeOf(session.userInfo).toEqualTypeOf<JsonValue | null>();
      expect(session.data).toEqual({});
      await untyped.updateData("plain", sessionId, [1, "two", null]);
      expect((await untyped.get("plain", sessionId)).data).toEqual([1, "two", null]);
      expectTypeOf<ConstructorParameters<typeof SessionStore>[0]>().toEqualTypeOf<SessionStoreOptions>();
    });
  });
});
