import { userKey } from "@multisession/session-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  ANDROID_UA,
  call,
  DESKTOP_UA,
  errorOf,
  eventually,
  IOS_UA,
  login,
  type Stack,
  startStack,
} from "./support/stack.js";

let stack: Stack;
let phone: Awaited<ReturnType<typeof login>>;
let laptop: Awaited<ReturnType<typeof login>>;
let bob: Awaited<ReturnType<typeof login>>;

beforeAll(async () => {
  // Production settings (the test kit's NODE_ENV): secure cookies, named __Host-ms_session.
  stack = await startStack(inject("redisUrl"), { SESSION_TOUCH_INTERVAL_MS: "0" });
  phone = await login(stack, "alice", "Alice's Pixel", ANDROID_UA);
  laptop = await login(stack, "alice", "Alice's laptop", DESKTOP_UA);
  bob = await login(stack, "bob", "Bob's iPhone", IOS_UA);
});
afterAll(() => stack.stop());

describe("login", () => {
  it("returns the token and the session, and sets an httpOnly SameSite=Lax cookie with the same token", async () => {
    const answer = await call(stack, "POST", "/auth/login", {
      body: { userId: "carol", password: "demo" },
      headers: { "user-agent": IOS_UA },
    });
    expect(answer.status).toBe(200);
    const { token, session } = answer.body as { token: string; session: Record<string, unknown> };
    expect(session).toMatchObject({
      current: true,
      // Unnamed, the device is named from its user agent (a web view: WebKit, no Safari version).
      device: { platform: "ios", userAgent: IOS_UA, name: "WebKit 605 on iOS" },
      browser: "WebKit 605",
      os: "iOS",
    });
    const cookie = answer.headers.get("set-cookie") ?? "";
    expect(cookie).toContain(`__Host-ms_session=${token}`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
  });

  it("takes the device platform and user agent from the request", () => {
    expect(phone.session).toMatchObject({
      device: { name: "Alice's Pixel", platform: "android", userAgent: ANDROID_UA },
    });
    expect(laptop.session).toMatchObject({ device: { platform: "web" } });
  });

  it("names an unnamed device from its user agent", async () => {
    const named = async (userAgent: string) =>
      (
        (
          await call(stack, "POST", "/auth/login", {
            body: { userId: "dora", password: "demo" },
            headers: { "user-agent": userAgent },
          })
        ).body as { session: { device: { name: string } } }
      ).session.device.name;
    expect(await named(ANDROID_UA)).toBe("Chrome 130 on Android");
    expect(await named(DESKTOP_UA)).toBe("Firefox 133 on Linux");
    expect(await named("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")).toBe("Windows device");
    expect(await named("curl/8.5.0")).toBe("Unknown device");
  });

  it("refuses a login from another origin before creating a session (CSRF)", async () => {
    const answer = await call(stack, "POST", "/auth/login", {
      body: { userId: "erin", password: "demo" },
      headers: { origin: "https://evil.example" },
    });
    expect(answer).toMatchObject({ status: 403, body: { error: { code: "ERR_FORBIDDEN_ORIGIN" } } });
    expect(answer.headers.get("set-cookie")).toBeNull();
    const erin = await login(stack, "erin", "Erin's laptop", DESKTOP_UA);
    const listed = await call(stack, "GET", "/sessions", { token: erin.token });
    expect(listed.body?.sessions).toHaveLength(1);
  });

  it("refuses a wrong password", async () => {
    const answer = await call(stack, "POST", "/auth/login", { body: { userId: "alice", password: "nope" } });
    expect(answer).toMatchObject({ status: 401, body: { error: { code: "ERR_BAD_CREDENTIALS" } } });
  });

  it.each([
    [{ password: "demo" }, /userId/],
    [{ userId: "alice" }, /password/],
    [{ userId: "", password: "demo" }, /userId/],
    [{ userId: "u".repeat(300), password: "demo" }, /userId/],
    [{ userId: 42, password: "demo" }, /userId/],
    [{ userId: "a{b}", password: "demo" }, /userId/],
    [{ userId: "alice", password: "demo", deviceName: "d".repeat(200) }, /deviceName/],
    [{ userId: "alice", password: "demo", admin: true }, /additional properties/],
  ])("answers 400 naming the field for a bad body %#", async (body, field) => {
    const answer = await call(stack, "POST", "/auth/login", { body });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).message).toMatch(field);
  });

  // Lengths count UTF-16 code units, as session-core does: 200 emoji are 400 units, past the 256 allowed.
  it.each([
    ["userId", { userId: "u".repeat(300), password: "demo" }],
    ["userId", { userId: "\u{1F600}".repeat(200), password: "demo" }],
    ["userId", { userId: `${"u".repeat(255)}\u{1F600}`, password: "demo" }],
    ["deviceName", { userId: "alice", password: "demo", deviceName: "\u{1F4F1}".repeat(100) }],
  ])("a too-long %s is one validation answer however it is spelt (%#)", async (field, body) => {
    const answer = await call(stack, "POST", "/auth/login", { body });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toEqual({ code: "ERR_VALIDATION", message: expect.stringContaining(field) });
  });
});

describe("authenticated routes", () => {
  it("GET /me answers with the session and user info, by bearer token or cookie", async () => {
    const viaBearer = await call(stack, "GET", "/me", { token: phone.token });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body).toMatchObject({ userId: "alice", session: { handle: phone.session.handle, current: true } });
    const viaCookie = await call(stack, "GET", "/me", { cookie: `__Host-ms_session=${laptop.token}` });
    expect(viaCookie.body).toMatchObject({ userId: "alice", session: { handle: laptop.session.handle } });
  });

  it("GET /sessions lists the user's devices, marks the caller's, and never another user's", async () => {
    const alice = await call(stack, "GET", "/sessions", { token: laptop.token });
    const sessions = alice.body?.sessions as {
      handle: string;
      current: boolean;
      device: { name: string };
      browser: string | null;
      os: string | null;
    }[];
    expect(sessions.map((s) => s.device.name).sort()).toEqual(["Alice's Pixel", "Alice's laptop"]);
    expect(sessions.find((s) => s.current)?.handle).toBe(laptop.session.handle);
    for (const session of sessions) {
      expect(Object.keys(session).sort()).toEqual([
        "browser",
        "createdAt",
        "current",
        "device",
        "expiresAt",
        "handle",
        "lastSeenAt",
        "os",
      ]);
    }
    // Browser and OS names, read from each device's stored user agent; the caller's own device first.
    expect(sessions.map((s) => [s.device.name, s.browser, s.os])).toEqual([
      ["Alice's laptop", "Firefox 133", "Linux"],
      ["Alice's Pixel", "Chrome 130", "Android"],
    ]);
    const bobs = (await call(stack, "GET", "/sessions", { token: bob.token })).body?.sessions as { handle: string }[];
    expect(bobs.map((s) => s.handle)).toEqual([bob.session.handle]);
  });

  it("PUT /me/info is seen at once by the user's other sessions, and not by other users", async () => {
    const put = await call(stack, "PUT", "/me/info", { token: phone.token, body: { displayName: "Alice L." } });
    expect(put).toMatchObject({ status: 200, body: { userInfo: { displayName: "Alice L." } } });
    expect((await call(stack, "GET", "/me", { token: laptop.token })).body?.userInfo).toEqual({
      displayName: "Alice L.",
    });
    expect((await call(stack, "GET", "/me", { token: bob.token })).body?.userInfo).toBeNull();
  });

  it("PUT /me/info answers 400 for a body that is not an object", async () => {
    const answer = await call(stack, "PUT", "/me/info", { token: phone.token, body: ["not", "an", "object"] });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).message).toMatch(/body must be object/);
  });

  it("DELETE /sessions/:handle answers 404 for another user's device and 400 for a malformed handle", async () => {
    expect(await call(stack, "DELETE", `/sessions/${bob.session.handle}`, { token: phone.token })).toMatchObject({
      status: 404,
      body: { error: { code: "ERR_DEVICE_NOT_FOUND" } },
    });
    expect((await call(stack, "GET", "/me", { token: bob.token })).status).toBe(200);
    const bad = await call(stack, "DELETE", "/sessions/not-a-handle", { token: phone.token });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toMatch(/handle/);
  });

  it("missing and malformed tokens answer 401 with session-core's codes", async () => {
    expect(await call(stack, "GET", "/me")).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
    expect(await call(stack, "GET", "/sessions", { token: "garbage" })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_INVALID_INPUT" } },
    });
    expect(await call(stack, "GET", "/me", { token: `${phone.token.slice(0, -4)}AAAA` })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
  });

  it("refuses cookie-authenticated writes from another origin", async () => {
    const answer = await call(stack, "POST", "/auth/logout-others", {
      cookie: `__Host-ms_session=${laptop.token}`,
      headers: { origin: "https://evil.example" },
    });
    expect(answer).toMatchObject({ status: 403, body: { error: { code: "ERR_FORBIDDEN_ORIGIN" } } });
    expect((await call(stack, "GET", "/me", { token: phone.token })).status).toBe(200);
  });
});

describe("signing out", () => {
  it("a revoked device gets 401 on its next request", async () => {
    const tablet = await login(stack, "alice", "Alice's tablet", IOS_UA);
    const revoke = await call(stack, "DELETE", `/sessions/${tablet.session.handle}`, { token: phone.token });
    expect(revoke.status).toBe(204);
    expect(await call(stack, "GET", "/me", { token: tablet.token })).toMatchObject({
      status: 401,
      body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
    });
  });

  it("POST /auth/logout ends this session only and clears the cookie", async () => {
    const spare = await login(stack, "alice", "spare", DESKTOP_UA);
    const out = await call(stack, "POST", "/auth/logout", { token: spare.token });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^__Host-ms_session=;/);
    expect((await call(stack, "GET", "/me", { token: spare.token })).status).toBe(401);
    expect((await call(stack, "GET", "/me", { token: phone.token })).status).toBe(200);
  });

  it("POST /auth/logout-others keeps this device and counts the others", async () => {
    const extra = await login(stack, "alice", "extra", DESKTOP_UA);
    const answer = await call(stack, "POST", "/auth/logout-others", { token: phone.token });
    expect(answer).toMatchObject({ status: 200, body: { removed: 2 } });
    for (const gone of [extra, laptop])
      expect((await call(stack, "GET", "/me", { token: gone.token })).status).toBe(401);
    expect((await call(stack, "GET", "/me", { token: phone.token })).status).toBe(200);
  });

  it("POST /auth/logout-all signs out every device of the user, and only that user", async () => {
    const second = await login(stack, "alice", "second", DESKTOP_UA);
    const answer = await call(stack, "POST", "/auth/logout-all", { token: second.token });
    expect(answer).toMatchObject({ status: 200, body: { removed: 2 } });
    for (const gone of [phone, second])
      expect((await call(stack, "GET", "/me", { token: gone.token })).status).toBe(401);
    expect((await call(stack, "GET", "/me", { token: bob.token })).status).toBe(200);
  });
});

describe("expiry, with the worker", () => {
  it("an expired session answers 401 ERR_SESSION_EXPIRED, and the worker then deletes it from Redis", async () => {
    // The sweeper stays idle here, so that what deletes the session is the job its expired read enqueued.
    const short = await startStack(
      inject("redisUrl"),
      { SESSION_IDLE_TIMEOUT_MS: "2500", SESSION_TOUCH_INTERVAL_MS: "0" },
      { SWEEP_CRON: "0 0 1 1 *" },
    );
    try {
      const dave = await login(short, "dave", "kiosk", DESKTOP_UA);
      const keep = await login(short, "dave", "kept alive", DESKTOP_UA);
      expect((await call(short, "GET", "/me", { token: dave.token })).status).toBe(200);
      // Keep one session busy past the other's idle timeout (generous: the machine may be loaded).
      for (let i = 0; i < 7; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await call(short, "GET", "/me", { token: keep.token });
      }
      expect(await call(short, "GET", "/me", { token: dave.token })).toMatchObject({
        status: 401,
        body: { error: { code: "ERR_SESSION_EXPIRED" } },
      });
      const key = userKey(short.prefix, "dave");
      await eventually(async () => (await short.redis.hlen(key)) === 1, 15_000);
      expect((await call(short, "GET", "/me", { token: keep.token })).status).toBe(200);
      expect(await call(short, "GET", "/me", { token: dave.token })).toMatchObject({
        status: 401,
        body: { error: { code: "ERR_SESSION_NOT_FOUND" } },
      });
    } finally {
      await short.stop();
    }
  });
});

describe("operations", () => {
  it("GET /healthz answers ok", async () => {
    expect(await call(stack, "GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("never logs a token", () => {
    const logged = JSON.stringify(stack.api.logs);
    expect(stack.api.logs.some((line) => line.msg === "request completed")).toBe(true);
    for (const { token } of [phone, laptop, bob]) {
      expect(logged).not.toContain(token);
      expect(logged).not.toContain(token.split(".")[1] as string);
    }
  });

  it("shuts down cleanly on SIGTERM: requests finish, then the queue and Redis close, exit 0", async () => {
    const inFlight = call(stack, "GET", "/sessions", { token: bob.token });
    const code = await stack.api.stop("SIGTERM");
    expect((await inFlight).status).toBe(200);
    expect(code).toBe(0);
    expect(stack.api.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining(["shutting down", "shutdown complete"]),
    );
  });
});
