import { ERROR_CODES } from "@multisession/session-core";
import express from "express";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deviceRouter, HTTP_ERROR_CODES } from "../src/index.js";
import { startApp, type TestServer } from "./support/app.js";
import { CHROME_MAC, openStore, SAFARI_IPHONE, type TestStore } from "./support/store.js";

let ctx: TestStore;
let app: TestServer;
beforeAll(async () => {
  ctx = openStore();
  app = await startApp(ctx.store);
});
afterAll(async () => {
  await app.close();
  await ctx.close();
});

async function logIn(userId: string, userAgent = CHROME_MAC) {
  const answer = await app.call("POST", "/login", { body: { userId }, headers: { "user-agent": userAgent } });
  return { token: answer.body.token as string, handle: answer.body.handle as string };
}

describe("deviceRouter", () => {
  test("lists the caller's devices, theirs first and current, with browser and OS, never a secret", async () => {
    const laptop = await logIn("margaret");
    const phone = await logIn("margaret", SAFARI_IPHONE);
    const answer = await app.call("GET", "/account/devices", { token: phone.token });
    expect(answer.status).toBe(200);
    const devices = answer.body.devices as { handle: string; current: boolean; browser: string; os: string }[];
    expect(devices.map((d) => [d.handle, d.current, d.browser, d.os])).toEqual([
      [phone.handle, true, "Safari 17", "iOS"],
      [laptop.handle, false, "Chrome 131", "macOS"],
    ]);
    expect(JSON.stringify(answer.body)).not.toContain(phone.token.split(".")[1]);
  });

  test("revokes a device by handle: 204, then its token is refused; unknown 404, malformed 400", async () => {
    const a = await logIn("alan");
    const b = await logIn("alan");
    const revoked = await app.call("DELETE", `/account/devices/${b.handle}`, { token: a.token });
    expect(revoked.status).toBe(204);
    expect(revoked.cookies).toEqual([]);
    expect((await app.call("GET", "/me", { token: b.token })).status).toBe(401);
    const again = await app.call("DELETE", `/account/devices/${b.handle}`, { token: a.token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe(HTTP_ERROR_CODES.DEVICE_NOT_FOUND);
    const malformed = await app.call("DELETE", "/account/devices/nope", { token: a.token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe(ERROR_CODES.INVALID_INPUT);
  });

  test("revoking the caller's own device clears the cookie", async () => {
    const a = await logIn("barbara");
    const own = await app.call("DELETE", `/account/devices/${a.handle}`, { cookie: `ms_session=${a.token}` });
    expect(own.status).toBe(204);
    expect(own.cookies).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
  });

  test("log out others keeps the caller; log out everywhere ends all and clears the cookie", async () => {
    const [a, b, c] = [await logIn("hedy"), await logIn("hedy"), await logIn("hedy")];
    const others = await app.call("POST", "/account/devices/log-out-others", { token: a.token });
    expect(others.body).toEqual({ removed: 2 });
    for (const gone of [b, c]) expect((await app.call("GET", "/me", { token: gone.token })).status).toBe(401);
    const all = await app.call("POST", "/account/devices/log-out-everywhere", { token: a.token });
    expect(all.body).toEqual({ removed: 1 });
    expect(all.cookies).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
    expect(await ctx.store.list("hedy")).toEqual([]);
  });

  test("every route needs a session, and cookie writes from another origin are refused", async () => {
    expect((await app.call("GET", "/account/devices")).status).toBe(401);
    const a = await logIn("mallory-target");
    const crossSite = await app.call("POST", "/account/devices/log-out-everywhere", {
      cookie: `ms_session=${a.token}`,
      headers: { origin: "https://evil.test" },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error.code).toBe(HTTP_ERROR_CODES.FORBIDDEN_ORIGIN);
    expect(await ctx.store.list("mallory-target")).toHaveLength(1);
  });

  test("without the middleware the router says what is missing", async () => {
    const bare = express();
    bare.use(deviceRouter());
    const server = bare.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as { port: number };
      const answer = await fetch(`http://127.0.0.1:${port}/devices`);
      expect(answer.status).toBe(500);
      expect(await answer.text()).toContain("app.use(multisession({ store })) must run before this route");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
