/**
 * `request.session` and the login helpers take the application's data and
 * user info types, declared once by augmenting `SessionTypes` (here through
 * this package, as an application that depends on it alone would).
 */
import type { SessionStore } from "@multisession/session-core";
import type { FastifyReply, FastifyRequest } from "fastify";
import { describe, expectTypeOf, test } from "vitest";
import type { MultisessionOptions, TypedCreatedSession } from "../src/index.js";

declare module "../src/index.js" {
  interface SessionTypes {
    data: { theme: "light" | "dark" };
    userInfo: { name: string };
  }
}

describe("typed sessions", () => {
  test("request.session carries the declared data and user info types", () => {
    expectTypeOf<NonNullable<FastifyRequest["session"]>["data"]>().toEqualTypeOf<{ theme: "light" | "dark" }>();
    expectTypeOf<NonNullable<FastifyRequest["session"]>["userInfo"]>().toEqualTypeOf<{ name: string } | null>();
    expectTypeOf<Awaited<ReturnType<FastifyReply["logIn"]>>>().toEqualTypeOf<TypedCreatedSession>();
    expectTypeOf<Parameters<FastifyReply["logIn"]>[1]>().toMatchTypeOf<
      { data?: { theme: "light" | "dark" } } | undefined
    >();
  });

  test("a store typed the same way is accepted", () => {
    type Store = SessionStore<{ theme: "light" | "dark" }, { name: string }>;
    expectTypeOf<Store>().toExtend<MultisessionOptions["store"]>();
  });

  test("so is a store typed with interfaces, which are no JsonValue (the plugin takes any store)", () => {
    interface Prefs {
      theme: "light" | "dark";
    }
    interface Profile {
      name: string;
    }
    expectTypeOf<SessionStore<Prefs, Profile>>().toExtend<MultisessionOptions["store"]>();
  });
});
