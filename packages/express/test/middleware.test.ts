import { ERROR_CODES, SessionLimitError } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HTTP_ERROR_CODES } from "../src/index.js";
import { startApp, type TestServer } from "./support/app.js";
import { CHROME_MAC, openStore, type TestStore } from "./support/store.js";

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

async function logIn(server: TestServer, userId: string, headers: Record<string, string> = {}) {
  const answer = await server.call("POST", "/login", {
    body: { userId },
    headers: { "user-agent": CHROME_MAC, origin: server.url, ...headers },
  });
  expect(answer.status).toBe(200);
  return { token: answer.body.token as string, handle: answer.body.handle as string, cookies: answer.cookies };
}

describe("@multisession/express", () => {
  test("anonymous: req.session is null on a public route, requireSession answers 401 with the code", async () => {
    expect((await app.call("GET", "/public")).body).toEqual({ userId: null });
    const refused = await app.call("GET", "/me");
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: { code: ERROR_CODES.SESSION_NOT_FOUND, message: expect.any(String) } });
  });

  test("res.logIn sets an HttpOnly, SameSite=Lax cookie with the store's absolute timeout and returns the token", async () => {
    const { token, cookies } = await logIn(app, "ada");
    expect(cookies).toEqual([`ms_session=${token}; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax`]);
    expect((await app.call("GET", "/me", { cookie: `ms_session=${token}` })).body).toMatchObject({ userId: "ada" });
    expect((await app.call("GET", "/me", { token })).body).toMatchObject({ userId: "ada" });
  });

  test("in production the cookie is __Host-ms_session and Secure", async () => {
    const production = await startApp(ctx.store, { production: true });
    try {
      const { token, cookies } = await logIn(production, "ada");
      expect(cookies).toEqual([`__Host-ms_session=${token}; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax; Secure`]);
      expect((await production.call("GET", "/me", { cookie: `ms_session=${token}` })).status).toBe(401);
      expect((await production.call("GET", "/me", { cookie: `__Host-ms_session=${token}` })).status).toBe(200);
    } finally {
      await production.close();
    }
  });

  test("the device is named from the user agent unless the user named it", async () => {
    const named = await app.call("POST", "/login", {
      body: { userId: "grace", deviceName: "Desk" },
      headers: { "user-agent": CHROME_MAC },
    });
    expect(named.body.device).toMatchObject({ name: "Desk", platform: "web", userAgent: CHROME_MAC });
    const unnamed = await logIn(app, "grace");
    const sessions = await ctx.store.list("grace");
    expect(sessions.find((s) => s.handle === unnamed.handle)?.device.name).toBe("Chrome 131 on macOS");
  });

  test("CSRF: a login or a cookie write from another origin is refused with 403; own origin, allow-list and Bearer pass", async () => {
    const allowing = await startApp(ctx.store, { allowedOrigins: ["https://app.test"] });
    try {
      const login = await allowing.call("POST", "/login", {
        body: { userId: "csrf-victim" },
        headers: { origin: "https://evil.test" },
      });
      expect(login.status).toBe(403);
      expect(login.body.error.code).toBe(HTTP_ERROR_CODES.FORBIDDEN_ORIGIN);
      expect(await ctx.store.list("csrf-victim")).toEqual([]);

      const { token } = await logIn(allowing, "csrf-victim");
      const cookie = `ms_session=${token}`;
      const write = (headers: Record<string, string>, auth: { cookie?: string; token?: string } = { cookie }) =>
        allowing.call("POST", "/me/note", { ...auth, headers });
      const crossSite = await write({ origin: "https://evil.test" });
      expect(crossSite.status).toBe(403);
      expect(crossSite.body.error.code).toBe(HTTP_ERROR_CODES.FORBIDDEN_ORIGIN);
      expect((await write({ referer: "https://evil.test/form" })).status).toBe(403);
      expect((await write({ origin: allowing.url })).status).toBe(200);
      expect((await write({ origin: "https://app.test" })).status).toBe(200);
      expect((await write({ origin: "https://evil.test" }, { token })).status).toBe(200);
      expect((await allowing.call("GET", "/me", { cookie, headers: { origin: "https://evil.test" } })).status).toBe(
        200,
      );
    } finally {
      await allowing.close();
    }
  });

  test("a malformed token is 401 ERR_INVALID_INPUT; a revoked one is 401 and its cookie is cleared", async () => {
    const junk = await app.call("GET", "/me", { token: "junk" });
    expect(junk.status).toBe(401);
    expect(junk.body.error.code).toBe(ERROR_CODES.INVALID_INPUT);

    const { token, handle } = await logIn(app, "linus");
    await ctx.store.revoke("linus", handle);
    const revoked = await app.call("GET", "/me", { cookie: `ms_session=${token}` });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe(ERROR_CODES.SESSION_NOT_FOUND);
    expect(revoked.cookies).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
  });

  test("a login that carries a dead cookie answers one Set-Cookie for it: the new session's", async () => {
    const { token, handle } = await logIn(app, "stale");
    await ctx.store.revoke("stale", handle);
    const again = await app.call("POST", "/login", {
      cookie: `other=1; ms_session=${token}`,
      body: { userId: "stale" },
    });
    expect(again.status).toBe(200);
    expect(again.cookies).toEqual([expect.stringMatching(`^ms_session=${again.body.token};`)]);
  });

  test("an expired session is 401 ERR_SESSION_EXPIRED", async () => {
    const short = openStore({ idleTimeoutMs: 300, absoluteTimeoutMs: 300, touchIntervalMs: 0 });
    const server = await startApp(short.store);
    try {
      const { token } = await logIn(server, "expiring");
      let answer = await server.call("GET", "/me", { token });
      const deadline = Date.now() + 20_000;
      while (answer.status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await server.call("GET", "/me", { token });
      }
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe(ERROR_CODES.SESSION_EXPIRED);
    } finally {
      await server.close();
      await short.close();
    }
  });

  test("res.logOut removes the session and clears the cookie; rotateSession replaces the cookie and retires the old token", async () => {
    const first = await logIn(app, "edsger");
    const rotated = await app.call("POST", "/rotate", {
      cookie: `ms_session=${first.token}`,
      headers: { origin: app.url },
    });
    const token = rotated.body.token as string;
    expect(rotated.cookies).toEqual([expect.stringContaining(`ms_session=${token};`)]);
    expect((await app.call("GET", "/me", { token: first.token })).status).toBe(401);

    const out = await app.call("POST", "/logout", { cookie: `ms_session=${token}`, headers: { origin: app.url } });
    expect(out.body).toEqual({ removed: true });
    expect(out.cookies).toEqual([expect.stringMatching(/^ms_session=; Max-Age=0;/)]);
    expect(await ctx.store.list("edsger")).toEqual([]);
  });

  test("session errors reach sessionErrors typed and answer with httpStatusOf: the limit is 409", async () => {
    const limited = openStore({ maxSessionsPerUser: 1, onLimit: "reject" });
    const seen: unknown[] = [];
    const server = await startApp(limited.store, {}, undefined, (error) => seen.push(error));
    try {
      await logIn(server, "one-device");
      const second = await server.call("POST", "/login", { body: { userId: "one-device" } });
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe(ERROR_CODES.SESSION_LIMIT);
      expect(seen[0]).toBeInstanceOf(SessionLimitError);
    } finally {
      await server.close();
      await limited.close();
    }
  });

  test("a store failure answers 503 without the backend's text", async () => {
    const broken = openStore();
    const server = await startApp(broken.store);
    try {
      const { token } = await logIn(server, "outage");
      broken.redis.disconnect();
      const answer = await server.call("GET", "/me", { token });
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({
        error: { code: ERROR_CODES.BACKEND, message: "the session store is unavailable; try again shortly" },
      });
    } finally {
      await server.close();
      await broken.close();
    }
  });

  test("bad options fail at once, naming the option", async () => {
    await expect(startApp(ctx.store, { cookieName: "bad name" })).rejects.toThrow(/options.cookieName/);
  });
});
