import { ERROR_CODES, InvalidOptionError } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  HTTP_ERROR_CODES,
  listDevices,
  logOutEverywhere,
  logOutOthers,
  type RequestFacts,
  requireCaller,
  revokeDevice,
  SessionHttp,
  SessionHttpError,
  sessionErrorAnswer,
} from "../src/index.js";
import { CHROME_MAC, openStore, SAFARI_IPHONE, type TestStore } from "./support/store.js";

let ctx: TestStore;
let http: SessionHttp;
beforeAll(() => {
  ctx = openStore();
  http = new SessionHttp({ store: ctx.store, production: false });
});
afterAll(() => ctx.close());

function request(facts: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: "GET",
    protocol: "http",
    host: "api.test",
    authorization: undefined,
    cookie: undefined,
    origin: undefined,
    referer: undefined,
    userAgent: CHROME_MAC,
    ip: "10.1.2.3",
    ...facts,
  };
}

describe("SessionHttp", () => {
  test("a login names the device from the user agent and hands back the token and its cookie", async () => {
    const loggedIn = await http.logIn(request({ method: "POST" }), "ada");
    expect(loggedIn.session.device).toEqual({
      name: "Chrome 131 on macOS",
      platform: "web",
      userAgent: CHROME_MAC,
      ip: "10.1.2.3",
    });
    expect(loggedIn.setCookie).toBe(
      `ms_session=${loggedIn.token}; Max-Age=${30 * 24 * 3600}; Path=/; HttpOnly; SameSite=Lax`,
    );
  });

  test("a login from another origin is refused before any session exists", async () => {
    const attempt = http.logIn(request({ method: "POST", origin: "http://evil.test" }), "mallory-victim");
    await expect(attempt).rejects.toMatchObject({ statusCode: 403, code: HTTP_ERROR_CODES.FORBIDDEN_ORIGIN });
    expect(await ctx.store.list("mallory-victim")).toEqual([]);
  });

  test("the Bearer header is read first, then the cookie", async () => {
    const a = await http.logIn(request(), "grace");
    const b = await http.logIn(request(), "grace");
    const both = await http.resolve(request({ authorization: `Bearer ${a.token}`, cookie: `ms_session=${b.token}` }));
    expect(both).toMatchObject({ via: "bearer", sessionId: a.sessionId, refusal: null });
    expect(both.session?.handle).toBe(a.session.handle);
    const cookieOnly = await http.resolve(
      request({ authorization: "Basic Zm9vOmJhcg==", cookie: `ms_session=${b.token}` }),
    );
    expect(cookieOnly).toMatchObject({ via: "cookie", sessionId: b.sessionId });
  });

  test("no token: anonymous, refused with 401 session-not-found", async () => {
    const state = await http.resolve(request());
    expect(state.session).toBeNull();
    expect(state.refusal).toMatchObject({ statusCode: 401, code: ERROR_CODES.SESSION_NOT_FOUND });
    expect(() => requireCaller(state)).toThrow(SessionHttpError);
  });

  test("a revoked token's cookie is refused with 401 and cleared; a malformed one too", async () => {
    const { token, session } = await http.logIn(request(), "linus");
    await ctx.store.revoke("linus", session.handle);
    const revoked = await http.resolve(request({ cookie: `ms_session=${token}` }));
    expect(revoked.refusal).toMatchObject({ statusCode: 401, code: ERROR_CODES.SESSION_NOT_FOUND });
    expect(revoked.setCookie).toMatch(/^ms_session=; Max-Age=0;/);
    const junk = await http.resolve(request({ authorization: "Bearer not-a-token" }));
    expect(junk.refusal).toMatchObject({ statusCode: 401, code: ERROR_CODES.INVALID_INPUT });
    expect(junk.setCookie).toBeNull();
  });

  test("a cookie write from another origin is refused with 403; the same write with a Bearer token is not", async () => {
    const { token } = await http.logIn(request(), "barbara");
    const viaCookie = await http.resolve(
      request({ method: "DELETE", cookie: `ms_session=${token}`, origin: "http://evil.test" }),
    );
    expect(viaCookie.session).toBeNull();
    expect(viaCookie.refusal).toMatchObject({ statusCode: 403, code: HTTP_ERROR_CODES.FORBIDDEN_ORIGIN });
    const read = await http.resolve(request({ cookie: `ms_session=${token}`, origin: "http://evil.test" }));
    expect(read.session?.userId).toBe("barbara");
    const bearer = await http.resolve(
      request({ method: "DELETE", authorization: `Bearer ${token}`, origin: "http://evil.test" }),
    );
    expect(bearer.session?.userId).toBe("barbara");
  });

  test("rotate replaces the cookie only for a cookie caller; logOut removes the session and clears the cookie", async () => {
    const { token } = await http.logIn(request(), "edsger");
    const viaCookie = await http.resolve(request({ cookie: `ms_session=${token}` }));
    const rotated = await http.rotate(viaCookie);
    expect(rotated.setCookie).toBe(
      `ms_session=${rotated.token}; Max-Age=${30 * 24 * 3600}; Path=/; HttpOnly; SameSite=Lax`,
    );
    const viaBearer = await http.resolve(request({ authorization: `Bearer ${rotated.token}` }));
    expect((await http.rotate(viaBearer)).setCookie).toBeNull();
    const old = await http.resolve(request({ authorization: `Bearer ${rotated.token}` }));
    expect(old.refusal?.code).toBe(ERROR_CODES.SESSION_NOT_FOUND);

    const fresh = await http.logIn(request(), "edsger");
    const state = await http.resolve(request({ authorization: `Bearer ${fresh.token}` }));
    expect(await http.logOut(state)).toEqual({ removed: true, setCookie: http.cookie.clearing() });
    expect((await http.resolve(request({ authorization: `Bearer ${fresh.token}` }))).session).toBeNull();
  });

  test("options are checked once, naming the option and the value", () => {
    expect(() => new SessionHttp({ store: {} as never })).toThrow(/options.store must be a SessionStore/);
    expect(() => new SessionHttp({ store: ctx.store, cookieName: "__Host-x" })).toThrow(InvalidOptionError);
    expect(() => new SessionHttp({ store: ctx.store, cookieName: "a b" })).toThrow(/options.cookieName/);
    expect(() => new SessionHttp({ store: ctx.store, allowedOrigins: ["https://a.test/x"] })).toThrow(
      /options.allowedOrigins\[0\] must be an origin.*received "https:\/\/a.test\/x"/,
    );
    expect(() => new SessionHttp({ store: ctx.store, production: "yes" as never })).toThrow(/options.production/);
    expect(new SessionHttp({ store: ctx.store, production: true }).cookie.name).toBe("__Host-ms_session");
  });
});

describe("the devices API", () => {
  test("lists the caller's devices, the current one first and marked, with browser and OS labels", async () => {
    const laptop = await http.logIn(request(), "margaret");
    const phone = await http.logIn(request({ userAgent: SAFARI_IPHONE }), "margaret", { deviceName: "My phone" });
    const caller = requireCaller(await http.resolve(request({ authorization: `Bearer ${phone.token}` })));
    const devices = await listDevices(ctx.store, caller);
    expect(devices.map((d) => [d.handle, d.current, d.device.name, d.browser, d.os])).toEqual([
      [phone.session.handle, true, "My phone", "Safari 17", "iOS"],
      [laptop.session.handle, false, "Chrome 131 on macOS", "Chrome 131", "macOS"],
    ]);
    expect(JSON.stringify(devices)).not.toContain(phone.sessionId);
  });

  test("revokes a device by handle; an unknown handle is a 404", async () => {
    const a = await http.logIn(request(), "alan");
    const b = await http.logIn(request(), "alan");
    const caller = requireCaller(await http.resolve(request({ authorization: `Bearer ${a.token}` })));
    expect(await revokeDevice(ctx.store, caller, b.session.handle)).toEqual({ current: false });
    await expect(revokeDevice(ctx.store, caller, b.session.handle)).rejects.toMatchObject({
      statusCode: 404,
      code: HTTP_ERROR_CODES.DEVICE_NOT_FOUND,
    });
    expect(await revokeDevice(ctx.store, caller, a.session.handle)).toEqual({ current: true });
    expect(await ctx.store.list("alan")).toEqual([]);
  });

  test("logs out the others, then everywhere", async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => http.logIn(request(), "hedy")));
    const caller = requireCaller(await http.resolve(request({ authorization: `Bearer ${tokens[0]?.token}` })));
    expect(await logOutOthers(ctx.store, caller)).toBe(2);
    expect((await ctx.store.list("hedy")).map((s) => s.handle)).toEqual([caller.handle]);
    expect(await logOutEverywhere(ctx.store, caller)).toBe(1);
    expect(await ctx.store.list("hedy")).toEqual([]);
  });
});

describe("error answers", () => {
  test("session errors answer with httpStatusOf and { error: { code, message } }; 5xx hide the backend's text", async () => {
    const refusal = (await http.resolve(request())).refusal;
    expect(sessionErrorAnswer(refusal)).toEqual({
      status: 401,
      body: { error: { code: ERROR_CODES.SESSION_NOT_FOUND, message: refusal?.message } },
      log: false,
    });
    const limit = await ctx.store.create("", {}).catch((error: unknown) => error);
    expect(sessionErrorAnswer(limit)).toMatchObject({
      status: 400,
      body: { error: { code: ERROR_CODES.INVALID_INPUT } },
    });
    expect(sessionErrorAnswer(new Error("other"))).toBeNull();
  });
});
