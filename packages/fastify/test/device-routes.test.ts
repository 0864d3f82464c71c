import { ERROR_CODES } from "@multisession/session-core";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deviceRoutes, HTTP_ERROR_CODES } from "../src/index.js";
import { buildApp, setCookies } from "./support/app.js";
import { CHROME_MAC, openStore, SAFARI_IPHONE, type TestStore } from "./support/store.js";

let ctx: TestStore;
let app: Awaited<ReturnType<typeof buildApp>>;
beforeAll(async () => {
  ctx = openStore();
  app = await buildApp(ctx.store);
});
afterAll(async () => {
  await app.close();
  await ctx.close();
});

async function logIn(userId: string, userAgent = CHROME_MAC) {
  const response = await app.inject({
    method: "POST",
    url: "/login",
    headers: { "user-agent": userAgent },
    payload: { userId },
  });
  return response.json() as { token: string; handle: string };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("deviceRoutes", () => {
  test("lists the caller's devices, theirs first and current, with browser and OS, never a secret", async () => {
    const laptop = await logIn("margaret");
    const phone = await logIn("margaret", SAFARI_IPHONE);
    const answer = await app.inject({ url: "/account/devices", headers: bearer(phone.token) });
    expect(answer.statusCode).toBe(200);
    const { devices } = answer.json() as {
      devices: { handle: string; current: boolean; browser: string; os: string }[];
    };
    expect(devices.map((d) => [d.handle, d.current, d.browser, d.os])).toEqual([
      [phone.handle, true, "Safari 17", "iOS"],
      [laptop.handle, false, "Chrome 131", "macOS"],
    ]);
    expect(answer.body).not.toContain(phone.token.split(".")[1]);
  });

  test("revokes a device by handle: 204, then its token is refused; unknown 404, malformed 400", async () => {
    const a = await logIn("alan");
    const b = await logIn("alan");
    const revoked = await app.inject({
      method: "DELETE",
      url: `/account/devices/${b.handle}`,
      headers: bearer(a.token),
    });
    expect(revoked.statusCode).toBe(204);
    expect(setCookies(revoked.headers)).toEqual([]);
    expect((await app.inject({ url: "/me", headers: bearer(b.token) })).statusCode).toBe(401);
    const again = await app.inject({ method: "DELETE", url: `/account/devices/${b.handle}`, headers: bearer(a.token) });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe(HTTP_ERROR_CODES.DEVICE_NOT_FOUND);
    const malformed = await app.inject({ method: "DELETE", url: "/account/devices/nope", headers: bearer(a.token) });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe(ERROR_CODES.INVALID_INPUT);
  });

  test("revoking the caller's own device clears the cookie", async () => {
    const a = await logIn("barbara");
    const own = await app.inject({
      method: "DELETE",
      url: `/account/devices/${a.handle}`,
      headers: { cookie: `ms_session=${a.token}` },
    });
    expect(own.statusCode).toBe(204);
    expect(setCookies(own.headers)).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
  });

  test("log out others keeps the caller; log out everywhere ends all and clears the cookie", async () => {
    const [a, b, c] = [await logIn("hedy"), await logIn("hedy"), await logIn("hedy")];
    const others = await app.inject({
      method: "POST",
      url: "/account/devices/log-out-others",
      headers: bearer(a.token),
    });
    expect(others.json()).toEqual({ removed: 2 });
    for (const gone of [b, c])
      expect((await app.inject({ url: "/me", headers: bearer(gone.token) })).statusCode).toBe(401);
    const all = await app.inject({
      method: "POST",
      url: "/account/devices/log-out-everywhere",
      headers: bearer(a.token),
    });
    expect(all.json()).toEqual({ removed: 1 });
    expect(setCookies(all.headers)).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
    expect(await ctx.store.list("hedy")).toEqual([]);
  });

  test("every route needs a session, and cookie writes from another origin are refused", async () => {
    expect((await app.inject({ url: "/account/devices" })).statusCode).toBe(401);
    const a = await logIn("mallory-target");
    const crossSite = await app.inject({
      method: "POST",
      url: "/account/devices/log-out-everywhere",
      headers: { cookie: `ms_session=${a.token}`, origin: "https://evil.test" },
    });
    expect(crossSite.statusCode).toBe(403);
    expect(await ctx.store.list("mallory-target")).toHaveLength(1);
  });

  test("registering deviceRoutes without the plugin fails with a message saying so", async () => {
    const bare = Fastify();
    await expect(bare.register(deviceRoutes).ready()).rejects.toThrow(/register @multisession\/fastify/);
  });
});
