/**
 * `req.session` and the login helpers take the application's data and user
 * info types, declared once by augmenting `SessionTypes` (here through this
 * package, as an application that depends on it alone would).
 */
import type { SessionStore } from "@multisession/session-core";
import type { Request, Response } from "express";
import { describe, expectTypeOf, test } from "vitest";
import type { multisession, TypedCreatedSession } from "../src/index.js";

declare module "../src/index.js" {
  interface SessionTypes {
    data: { theme: "light" | "dark" };
    userInfo: { name: string };
  }
}

describe("typed sessions", () => {
  test("req.session carries the declared data and user info types", () => {
    expectTypeOf<NonNullable<Request["session"]>["data"]>().toEqualTypeOf<{ theme: "light" | "dark" }>();
    expectTypeOf<NonNullable<Request["session"]>["userInfo"]>().toEqualTypeOf<{ name: string } | null>();
    expectTypeOf<Awaited<ReturnType<Response["logIn"]>>>().toEqualTypeOf<TypedCreatedSession>();
  });

  test("a store typed the same way is accepted", () => {
    type Store = SessionStore<{ theme: "light" | "dark" }, { name: string }>;
    expectTypeOf<Store>().toExtend<Parameters<typeof multisession>[0]["store"]>();
  });
});
