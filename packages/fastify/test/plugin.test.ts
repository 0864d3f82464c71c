import { ERROR_CODES, SessionLimitError } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HTTP_ERROR_CODES } from "../src/index.js";
import { buildApp, setCookies } from "./support/app.js";
import { CHROME_MAC, openStore, type TestStore } from "./support/store.js";

const HOST = "api.test";
const OWN = `http://${HOST}`;
let ctx: TestStore;
beforeAll(() => {
  ctx = openStore();
});
afterAll(() => ctx.close());

type App = Awaited<ReturnType<typeof buildApp>>;

async function logIn(app: App, userId: string, headers: Record<string, string> = {}) {
  const response = await app.inject({
    method: "POST",
    url: "/login",
    headers: { host: HOST, "user-agent": CHROME_MAC, ...headers },
    payload: { userId },
  });
  expect(response.statusCode).toBe(200);
  return { ...(response.json() as { token: string; handle: string }), cookies: setCookies(response.headers) };
}

describe("@multisession/fastify", () => {
  test("anonymous: request.session is null on a public route, requireSession answers 401 with the code", async () => {
    const app = await buildApp(ctx.store);
    expect((await app.inject({ url: "/public" })).json()).toEqual({ userId: null });
    const refused = await app.inject({ url: "/me" });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: { code: ERROR_CODES.SESSION_NOT_FOUND, message: expect.any(String) } });
  });

  test("logIn sets an HttpOnly, SameSite=Lax cookie with the store's absolute timeout and returns the token", async () => {
    const app = await buildApp(ctx.store);
    const { token, cookies } = await logIn(app, "ada");
    expect(cookies).toEqual([`ms_session=${token}; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax`]);
    const viaCookie = await app.inject({ url: "/me", headers: { cookie: `ms_session=${token}` } });
    expect(viaCookie.json()).toMatchObject({ userId: "ada" });
    const viaBearer = await app.inject({ url: "/me", headers: { authorization: `Bearer ${token}` } });
    expect(viaBearer.json()).toMatchObject({ userId: "ada" });
  });

  test("in production the cookie is __Host-ms_session and Secure", async () => {
    const app = await buildApp(ctx.store, { production: true });
    const { token, cookies } = await logIn(app, "ada");
    expect(cookies).toEqual([`__Host-ms_session=${token}; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax; Secure`]);
    const plainName = await app.inject({ url: "/me", headers: { cookie: `ms_session=${token}` } });
    expect(plainName.statusCode).toBe(401);
    const hostName = await app.inject({ url: "/me", headers: { cookie: `__Host-ms_session=${token}` } });
    expect(hostName.statusCode).toBe(200);
  });

  test("the device is named from the user agent unless the user named it", async () => {
    const app = await buildApp(ctx.store);
    const named = await app.inject({
      method: "POST",
      url: "/login",
      headers: { "user-agent": CHROME_MAC },
      payload: { userId: "grace", deviceName: "Desk" },
    });
    expect(named.json().device).toMatchObject({ name: "Desk", platform: "web", userAgent: CHROME_MAC });
    const unnamed = await logIn(app, "grace");
    expect((await ctx.store.list("grace")).find((s) => s.handle === unnamed.handle)?.device.name).toBe(
      "Chrome 131 on macOS",
    );
  });

  test("CSRF: a login or a cookie write from another origin is refused with 403; own origin, allow-list and Bearer pass", async () => {
    const app = await buildApp(ctx.store, { allowedOrigins: ["https://app.test"] });
    const login = await app.inject({
      method: "POST",
      url: "/login",
      headers: { host: HOST, origin: "https://evil.test" },
      payload: { userId: "csrf-victim" },
    });
    expect(login.statusCode).toBe(403);
    expect(login.json().error.code).toBe(HTTP_ERROR_CODES.FORBIDDEN_ORIGIN);
    expect(await ctx.store.list("csrf-victim")).toEqual([]);

    const { token } = await logIn(app, "csrf-victim", { origin: OWN });
    const write = (headers: Record<string, string>) =>
      app.inject({ method: "POST", url: "/me/note", headers: { host: HOST, ...headers } });
    const cookie = `ms_session=${token}`;
    const crossSite = await write({ cookie, origin: "https://evil.test" });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json().error.code).toBe(HTTP_ERROR_CODES.FORBIDDEN_ORIGIN);
    expect((await write({ cookie, referer: "https://evil.test/form" })).statusCode).toBe(403);
    expect((await write({ cookie, origin: OWN })).statusCode).toBe(200);
    expect((await write({ cookie, origin: "https://app.test" })).statusCode).toBe(200);
    expect((await write({ authorization: `Bearer ${token}`, origin: "https://evil.test" })).statusCode).toBe(200);
    // A cross-site GET is a read: SameSite=Lax lets the cookie through, and it changes nothing.
    expect(
      (await app.inject({ url: "/me", headers: { host: HOST, cookie, origin: "https://evil.test" } })).statusCode,
    ).toBe(200);
  });

  test("a malformed token is 401 ERR_INVALID_INPUT; a revoked one is 401 and its cookie is cleared", async () => {
    const app = await buildApp(ctx.store);
    const junk = await app.inject({ url: "/me", headers: { authorization: "Bearer junk" } });
    expect(junk.statusCode).toBe(401);
    expect(junk.json().error.code).toBe(ERROR_CODES.INVALID_INPUT);
    expect(JSON.stringify(junk.json())).not.toContain("junk");

    const { token, handle } = await logIn(app, "linus");
    await ctx.store.revoke("linus", handle);
    const revoked = await app.inject({ url: "/me", headers: { cookie: `ms_session=${token}` } });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.code).toBe(ERROR_CODES.SESSION_NOT_FOUND);
    expect(setCookies(revoked.headers)).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
  });

  test("a login that carries a dead cookie answers one Set-Cookie for it: the new session's", async () => {
    const app = await buildApp(ctx.store);
    const { token, handle } = await logIn(app, "stale");
    await ctx.store.revoke("stale", handle);
    const again = await app.inject({
      method: "POST",
      url: "/login",
      headers: { cookie: `other=1; ms_session=${token}` },
      payload: { userId: "stale" },
    });
    expect(again.statusCode).toBe(200);
    expect(setCookies(again.headers)).toEqual([expect.stringMatching(`^ms_session=${again.json().token};`)]);
  });

  test("an expired session is 401 ERR_SESSION_EXPIRED", async () => {
    const short = openStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 300, touchIntervalMs: 0 });
    try {
      const app = await buildApp(short.store);
      const { token } = await logIn(app, "expiring");
      let answer = await app.inject({ url: "/me", headers: { authorization: `Bearer ${token}` } });
      const deadline = Date.now() + 20_000;
      while (answer.statusCode === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await app.inject({ url: "/me", headers: { authorization: `Bearer ${token}` } });
      }
      expect(answer.statusCode).toBe(401);
      expect(answer.json().error.code).toBe(ERROR_CODES.SESSION_EXPIRED);
    } finally {
      await short.close();
    }
  });

  test("logOut removes the session and clears the cookie; rotate replaces the cookie and retires the old token", async () => {
    const app = await buildApp(ctx.store);
    const first = await logIn(app, "edsger");
    const rotated = await app.inject({
      method: "POST",
      url: "/rotate",
      headers: { cookie: `ms_session=${first.token}` },
    });
    const { token } = rotated.json() as { token: string };
    expect(setCookies(rotated.headers)).toEqual([expect.stringContaining(`ms_session=${token};`)]);
    expect((await app.inject({ url: "/me", headers: { authorization: `Bearer ${first.token}` } })).statusCode).toBe(
      401,
    );

    const out = await app.inject({ method: "POST", url: "/logout", headers: { cookie: `ms_session=${token}` } });
    expect(out.json()).toEqual({ removed: true });
    expect(setCookies(out.headers)).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
    expect(await ctx.store.list("edsger")).toEqual([]);
  });

  test("session errors from the helpers are typed and answered with httpStatusOf: the limit is 409", async () => {
    const limited = openStore({ maxSessionsPerUser: 1, onLimit: "reject" });
    const seen: unknown[] = [];
    try {
      const app = await buildApp(limited.store, {}, (instance) => {
        instance.addHook("onError", async (_request, _reply, error) => {
          seen.push(error);
        });
      });
      await logIn(app, "one-device");
      const second = await app.inject({ method: "POST", url: "/login", payload: { userId: "one-device" } });
      expect(second.statusCode).toBe(409);
      expect(second.json().error.code).toBe(ERROR_CODES.SESSION_LIMIT);
      expect(seen[0]).toBeInstanceOf(SessionLimitError);
    } finally {
      await limited.close();
    }
  });

  test("a store failure answers 503 without the backend's text", async () => {
    const broken = openStore({ enqueueTimeoutMs: 100 });
    const app = await buildApp(broken.store);
    const { token } = await logIn(app, "outage");
    broken.redis.disconnect();
    try {
      const answer = await app.inject({ url: "/me", headers: { authorization: `Bearer ${token}` } });
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toEqual({
        error: { code: ERROR_CODES.BACKEND, message: "the session store is unavailable; try again shortly" },
      });
    } finally {
      await broken.close();
    }
  });

  test("errorHandler: false installs no handler: session errors reach the app's (here Fastify's default)", async () => {
    const withHandler = await buildApp(ctx.store);
    const ours = await withHandler.inject({ method: "POST", url: "/login", payload: { userId: "" } });
    expect(ours.statusCode).toBe(400);
    expect(ours.json().error.code).toBe(ERROR_CODES.INVALID_INPUT);
    const without = await buildApp(ctx.store, { errorHandler: false });
    const theirs = await without.inject({ method: "POST", url: "/login", payload: { userId: "" } });
    expect(theirs.statusCode).toBe(500);
    expect(theirs.json()).not.toHaveProperty("error.code");
  });

  test("bad options fail registration naming the option", async () => {
    await expect(buildApp(ctx.store, { cookieName: "bad name" })).rejects.toThrow(/options.cookieName/);
    await expect(buildApp(ctx.store, { errorHandler: "yes" as never })).rejects.toThrow(
      /options.errorHandler must be a boolean \(received "yes"\)/,
    );
  });
});
