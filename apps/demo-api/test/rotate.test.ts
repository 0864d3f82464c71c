/**
 * POST /auth/rotate: a new secret for the caller's session (as after a
 * privilege change), by bearer token or cookie; the old token is dead at once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ANDROID_UA, call, DESKTOP_UA, login, type Stack, startStack } from "./support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(inject("redisUrl"));
});
afterAll(() => stack.stop());

/** The session cookie a login set, as `name=value`, whatever name is in force. */
async function cookieLogin(userId: string) {
  const answer = await call(stack, "POST", "/auth/login", {
    body: { userId, password: "demo", deviceName: "browser" },
    headers: { "user-agent": DESKTOP_UA },
  });
  const setCookie = answer.headers.get("set-cookie") ?? "";
  const pair = setCookie.split(";")[0] as string;
  const name = pair.slice(0, pair.indexOf("="));
  const { token, session } = answer.body as { token: string; session: { handle: string } };
  return { name, cookie: pair, token, handle: session.handle };
}

interface Rotated {
  token: string;
  session: { handle: string; current: boolean; device: Record<string, string>; createdAt: number };
}

describe("POST /auth/rotate", () => {
  it("by bearer token: answers a new token for the same session, the old token then gets 401", async () => {
    const phone = await login(stack, "rot-bearer", "Pixel", ANDROID_UA);
    const answer = await call(stack, "POST", "/auth/rotate", { token: phone.token });
    expect(answer.status).toBe(200);
    const rotated = answer.body as unknown as Rotated;
    expect(rotated.token).not.toBe(phone.token);
    expect(rotated.session).toMatchObject({
      handle: phone.session.handle,
      current: true,
      device: { name: "Pixel", platform: "android" },
    });
    expect(Object.keys(answer.body ?? {}).sort()).toEqual(["session", "token"]);
    // A bearer call has no cookie to replace.
    expect(answer.headers.get("set-cookie")).toBeNull();

    expect(await call(stack, "GET", "/me", { token: phone.token })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
    const me = await call(stack, "GET", "/me", { token: rotated.token });
    expect(me).toMatchObject({
      status: 200,
      body: { userId: "rot-bearer", session: { handle: phone.session.handle } },
    });
    const listed = await call(stack, "GET", "/sessions", { token: rotated.token });
    expect(listed.body?.sessions).toEqual([expect.objectContaining({ handle: phone.session.handle, current: true })]);
  });

  it("by cookie: replaces the cookie with the new token, and the old cookie then gets 401", async () => {
    const browser = await cookieLogin("rot-cookie");
    const answer = await call(stack, "POST", "/auth/rotate", { cookie: browser.cookie });
    expect(answer.status).toBe(200);
    const rotated = answer.body as unknown as Rotated;
    expect(rotated.session).toMatchObject({ handle: browser.handle, current: true });
    const setCookie = answer.headers.get("set-cookie") ?? "";
    expect(setCookie).toContain(`${browser.name}=${rotated.token}`);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Path=\//);

    expect(await call(stack, "GET", "/me", { cookie: browser.cookie })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
    expect(await call(stack, "GET", "/me", { token: browser.token })).toMatchObject({ status: 401 });
    const me = await call(stack, "GET", "/me", { cookie: `${browser.name}=${rotated.token}` });
    expect(me).toMatchObject({ status: 200, body: { session: { handle: browser.handle, current: true } } });
  });

  it("by bearer token beside a cookie of another session: the cookie is left alone", async () => {
    const browser = await cookieLogin("rot-both");
    const app = await login(stack, "rot-both", "app", ANDROID_UA);
    const answer = await call(stack, "POST", "/auth/rotate", { token: app.token, cookie: browser.cookie });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("set-cookie")).toBeNull();
    expect((await call(stack, "GET", "/me", { cookie: browser.cookie })).status).toBe(200);
    expect((await call(stack, "GET", "/me", { token: app.token })).status).toBe(401);
  });

  it("refuses a cookie-authenticated rotation from another origin, and rotates nothing", async () => {
    const browser = await cookieLogin("rot-csrf");
    const answer = await call(stack, "POST", "/auth/rotate", {
      cookie: browser.cookie,
      headers: { origin: "https://evil.example" },
    });
    expect(answer).toMatchObject({ status: 403, body: { error: { code: "ERR_FORBIDDEN_ORIGIN" } } });
    expect(answer.headers.get("set-cookie")).toBeNull();
    expect((await call(stack, "GET", "/me", { cookie: browser.cookie })).status).toBe(200);
  });

  it("answers 401 without a session, and for a token already rotated", async () => {
    expect(await call(stack, "POST", "/auth/rotate")).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
    const phone = await login(stack, "rot-twice", "Pixel", ANDROID_UA);
    expect((await call(stack, "POST", "/auth/rotate", { token: phone.token })).status).toBe(200);
    expect(await call(stack, "POST", "/auth/rotate", { token: phone.token })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
  });
});
