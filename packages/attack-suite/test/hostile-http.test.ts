/**
 * The demo API as a real process on a private Redis, under hostile
 * Authorization headers, cookies, bodies and URLs. Every answer is a 2xx or
 * a 4xx, never a 5xx; every error is `{ "error": { "code", "message" } }`;
 * only the exact tokens login gave authenticate, each as its own user; and
 * the real users are still logged in, alone, at the end.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Answer, type Apps, errorCodeOf, login, request, startApps } from "./support/api-process.js";

let apps: Apps;
let alice: { token: string; handle: string };
let bob: { token: string; handle: string };

beforeAll(async () => {
  apps = await startApps();
  alice = await login(apps.api, "alice");
  bob = await login(apps.api, "bob");
});
afterAll(() => apps?.close());

/** What every answer must be, whatever was sent. */
function expectWellFormed(answer: Answer, what: string): void {
  expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
  if (answer.status >= 400) expect(errorCodeOf(answer), `${what}: ${answer.text.slice(0, 200)}`).toBeDefined();
}

/** Characters fetch lets through in a header value. */
const headerText = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 120,
});

const userPart = (token: string) => token.slice(0, token.indexOf("."));
const secretPart = (token: string) => token.slice(token.indexOf(".") + 1);

const forgedToken = fc.oneof(
  headerText,
  fc.nat().map((n) => alice.token.slice(0, n % alice.token.length)),
  fc
    .constantFrom(
      () => `${userPart(bob.token)}.${secretPart(alice.token)}`,
      () => `${userPart(alice.token)}.${secretPart(bob.token)}`,
      () => secretPart(alice.token),
      () => `${alice.token}=`,
      () => alice.token.toUpperCase(),
      () => `${Buffer.from("alice").toString("base64")}.${secretPart(alice.token)}`,
      () => `${userPart(alice.token)}.${secretPart(alice.token).replace(/-/g, "+").replace(/_/g, "/")}`,
      () => encodeURIComponent(alice.token).replace(/\./g, "%2E"),
      () => `${alice.token},${bob.token}`,
      () => `${alice.token} ${bob.token}`,
    )
    .map((make) => make()),
);

describe("hostile HTTP requests", () => {
  it("hostile Authorization headers and cookies: 401/403, the error shape, and only exact tokens get in", async () => {
    await fc.assert(
      fc.asyncProperty(
        forgedToken,
        fc.constantFrom("Bearer ", "bearer ", "Basic ", "", "Bearer  ", "Token "),
        fc.constantFrom("header", "cookie", "both"),
        fc.constantFrom(["GET", "/me"], ["GET", "/sessions"], ["PUT", "/me/info"], ["POST", "/auth/logout-others"]),
        async (token, scheme, where, [method, path]) => {
          const headers: Record<string, string> = {};
          if (where !== "cookie") headers.authorization = `${scheme}${token}`;
          if (where !== "header") headers.cookie = `ms_session=${token}`;
          if (where === "both") headers.authorization = `Bearer ${bob.token}`;
          let body: string | undefined;
          if (method === "PUT") {
            headers["content-type"] = "application/json";
            body = "{}";
          }
          // Logging out others would be a real logout for an exact token: never send that one.
          fc.pre(!(path === "/auth/logout-others" && [alice.token, bob.token].includes(token)));
          const answer = await request(apps.api, method as string, path as string, { headers, body });
          expectWellFormed(answer, `${method} ${path} ${where} ${JSON.stringify(`${scheme}${token}`)}`);
          if (answer.status < 300) {
            const sent = where === "cookie" ? token : (headers.authorization as string).replace(/^Bearer /, "").trim();
            const owner = sent === alice.token ? "alice" : sent === bob.token ? "bob" : undefined;
            expect(owner, `accepted ${JSON.stringify(sent)}`).toBeDefined();
            if (path === "/me") expect((answer.json as { userId: string }).userId).toBe(owner);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("hostile login bodies: 400 or 401 in the error shape, or a session for exactly the user id sent", async () => {
    const bodies = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record({ userId: fc.anything(), password: fc.constantFrom("demo", "wrong", 1, null) })
        .map((value) => JSON.stringify(value)),
      fc
        .record({
          userId: fc.string({ unit: "binary", maxLength: 300 }),
          password: fc.constant("demo"),
          deviceName: fc.string({ unit: "grapheme", maxLength: 140 }),
        })
        .map((value) => JSON.stringify(value)),
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.constantFrom(
        '{"userId":"a","password":"demo","__proto__":{"x":1}}',
        '{"userId":"a","password":"demo","userId":"carol"}',
        "[",
        "",
        "null",
        '"x"',
        "1e999",
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        bodies,
        fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1"),
        async (body, type) => {
          const answer = await request(apps.api, "POST", "/auth/login", { headers: { "content-type": type }, body });
          expectWellFormed(answer, `login ${body.slice(0, 80)}`);
          if (answer.status === 200) {
            const sent = JSON.parse(body) as { userId: string };
            const { token } = answer.json as { token: string };
            expect(Buffer.from(userPart(token), "base64url").toString("utf8")).toBe(sent.userId);
            expect(["alice", "bob"]).not.toContain(sent.userId);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("hostile user info bodies: stored as sent or refused in the error shape", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ unit: "binary", maxLength: 200 }),
        ),
        async (body) => {
          const answer = await request(apps.api, "PUT", "/me/info", {
            headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
            body,
          });
          expectWellFormed(answer, `info ${body.slice(0, 80)}`);
          if (answer.status === 200) {
            const me = await request(apps.api, "GET", "/me", { headers: { authorization: `Bearer ${alice.token}` } });
            expect((me.json as { userInfo: unknown }).userInfo).toEqual(JSON.parse(body));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("hostile URLs: 4xx in the error shape, and nobody's device revoked but by its owner", async () => {
    const segment = fc.oneof(
      fc.string({ unit: "binary", maxLength: 30 }).map((s) => encodeURIComponent(s)),
      fc.constantFrom(
        "%",
        "%00",
        "%2e%2e",
        "..",
        "%ZZ",
        "%C0%AF",
        "%ED%A0%80",
        "a".repeat(5_000),
        bob.handle,
        `${bob.handle}%00`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/sessions/", "/me/", "/auth/", "/", "/sessions/x/"),
        segment,
        fc.constantFrom("GET", "DELETE", "POST", "PUT", "PATCH", "OPTIONS"),
        async (base, rest, method) => {
          const answer = await request(apps.api, method, `${base}${rest}`, {
            headers: { authorization: `Bearer ${alice.token}` },
          });
          expectWellFormed(answer, `${method} ${base}${rest.slice(0, 60)}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("afterwards alice and bob are still logged in, each alone with their own session", async () => {
    for (const [user, who] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      const me = await request(apps.api, "GET", "/me", { headers: { authorization: `Bearer ${user.token}` } });
      expect(me.status).toBe(200);
      expect((me.json as { userId: string }).userId).toBe(who);
      const sessions = await request(apps.api, "GET", "/sessions", {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect((sessions.json as { sessions: { handle: string }[] }).sessions.map((s) => s.handle)).toEqual([
        user.handle,
      ]);
    }
  });
});
