/**
 * What every answer looks like: errors in `{ error: { code, message } }`,
 * the router's own refusals included; `X-Content-Type-Options: nosniff` on
 * JSON; `Cache-Control: no-store` on API answers; and, over HTTPS (secure cookies on), the session cookie named with
 * the `__Host-` prefix and read under that name only.
 */
import { fileURLToPath } from "node:url";
import { type ServiceProcess, startService } from "@multisession/test-kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const API_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let plain: ServiceProcess;
let secure: ServiceProcess;

beforeAll(async () => {
  const env = (name: string) => ({ REDIS_URL: inject("redisUrl"), SESSION_PREFIX: `answers-${name}-${process.pid}:` });
  [plain, secure] = await Promise.all([
    startService(API_MAIN, { ...env("plain"), COOKIE_SECURE: "false" }, "api started"),
    startService(API_MAIN, { ...env("secure"), COOKIE_SECURE: "true" }, "api started"),
  ]);
});
afterAll(() => Promise.all([plain?.stop(), secure?.stop()]));

async function send(
  api: ServiceProcess,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  const response = await fetch(api.url(path), {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : null };
}

const loginBody = (userId: string) => ({ userId, password: "demo" });

describe("the router's refusals", () => {
  it("a malformed URL (bad percent-encoding) answers 400 in the documented shape", async () => {
    const answer = await send(plain, "DELETE", "/sessions/%E0%A4%A");
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: "ERR_BAD_URL", message: expect.any(String) } });
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("a too-long URL parameter answers 414 in the documented shape", async () => {
    const answer = await send(plain, "DELETE", `/sessions/${"a".repeat(500)}`);
    expect(answer.status).toBe(414);
    expect(answer.body).toEqual({ error: { code: "ERR_PARAM_TOO_LONG", message: expect.any(String) } });
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("X-Content-Type-Options", () => {
  it("is nosniff on JSON answers, successes and errors alike", async () => {
    const { token } = (await send(plain, "POST", "/auth/login", {}, loginBody("sniffed"))).body as { token: string };
    const answers = await Promise.all([
      send(plain, "GET", "/me", { authorization: `Bearer ${token}` }),
      send(plain, "GET", "/me"),
      send(plain, "GET", "/no-such-route"),
      send(plain, "POST", "/auth/login", {}, { userId: "" }),
      send(plain, "GET", "/healthz"),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 401, 404, 400, 200]);
    for (const answer of answers) {
      expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });
});

describe("Cache-Control", () => {
  it("is no-store on API answers, so no cache keeps a token, a session or an account's devices", async () => {
    const login = await send(plain, "POST", "/auth/login", {}, loginBody("uncached"));
    const { token } = login.body as { token: string };
    const bearer = { authorization: `Bearer ${token}` };
    const answers = [
      login,
      await send(plain, "GET", "/me", bearer),
      await send(plain, "GET", "/sessions", bearer),
      await send(plain, "POST", "/auth/rotate", bearer),
      await send(plain, "GET", "/me"),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 401]);
    for (const answer of answers) expect(answer.headers.get("cache-control")).toBe("no-store");
  });

  it("lets the page's static files be revalidated instead (they hold no session)", async () => {
    const page = await fetch(plain.url("/app.js"));
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-cache");
  });
});

describe("the session cookie", () => {
  it("over HTTPS is __Host-ms_session: Secure, Path=/, no Domain", async () => {
    const answer = await send(secure, "POST", "/auth/login", {}, loginBody("hosted"));
    const cookie = answer.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^__Host-ms_session=/);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).not.toMatch(/Domain=/i);
  });

  it("over HTTPS is read under __Host-ms_session only, and cleared under that name", async () => {
    const { token } = (await send(secure, "POST", "/auth/login", {}, loginBody("hosted-reader"))).body as {
      token: string;
    };
    expect((await send(secure, "GET", "/me", { cookie: `__Host-ms_session=${token}` })).status).toBe(200);
    expect((await send(secure, "GET", "/me", { cookie: `ms_session=${token}` })).status).toBe(401);
    const out = await send(secure, "POST", "/auth/logout", { cookie: `__Host-ms_session=${token}` });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^__Host-ms_session=;/);
  });

  it("without HTTPS stays ms_session (a browser would drop a __Host- cookie without Secure)", async () => {
    const answer = await send(plain, "POST", "/auth/login", {}, loginBody("plain-cookie"));
    const cookie = answer.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^ms_session=/);
    expect(cookie).not.toMatch(/; Secure/i);
  });
});
