/**
 * The Fastify example as a user runs it: `node dist/server.js` as a child process on
 * the suite's private redis-server (a key and queue prefix of its own),
 * driven over HTTP through the whole story: log in on two devices, the
 * protected route, the device list, revoking the other device, logging out
 * everywhere, and a clean exit on SIGTERM.
 */
import { fileURLToPath } from "node:url";
import { type ServiceProcess, startService } from "@multisession/test-kit";
import { afterAll, beforeAll, expect, inject, test } from "vitest";

const SERVER = fileURLToPath(new URL("../dist/server.js", import.meta.url));
const CHROME_MAC =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

let example: ServiceProcess;
beforeAll(async () => {
  const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  example = await startService(
    SERVER,
    { REDIS_URL: inject("redisUrl"), PORT: "0", SESSION_PREFIX: `example-${id}:`, QUEUE_PREFIX: `bull-${id}` },
    "example started",
  );
});
afterAll(() => example?.stop());

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; userAgent?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.userAgent) headers["user-agent"] = options.userAgent;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(example.url(path), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
  const body: any = text ? JSON.parse(text) : null;
  return { status: response.status, body, cookies: response.headers.getSetCookie() };
}

test("log in, the protected route, list devices, revoke one, log out everywhere, stop on SIGTERM", async () => {
  const wrong = await call("POST", "/login", { body: { userId: "ada", password: "guess" } });
  expect(wrong.status).toBe(401);

  const laptop = await call("POST", "/login", {
    body: { userId: "ada", password: "let me in" },
    userAgent: CHROME_MAC,
  });
  expect(laptop.status).toBe(200);
  expect(laptop.cookies[0]).toMatch(/^__Host-ms_session=.+; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  const phone = await call("POST", "/login", {
    body: { userId: "ada", password: "let me in" },
    userAgent: FIREFOX_WINDOWS,
  });

  expect(await call("GET", "/me")).toMatchObject({ status: 401, body: { error: { code: "ERR_SESSION_NOT_FOUND" } } });
  expect(await call("GET", "/me", { token: laptop.body.token })).toMatchObject({
    status: 200,
    body: { userId: "ada" },
  });

  const listed = await call("GET", "/account/devices", { token: laptop.body.token });
  expect(listed.status).toBe(200);
  const devices = listed.body.devices as { handle: string; current: boolean; device: { name: string } }[];
  expect(devices.map((d) => [d.current, d.device.name])).toEqual([
    [true, "Chrome 131 on macOS"],
    [false, "Firefox 133 on Windows"],
  ]);

  const other = devices[1]?.handle;
  expect((await call("DELETE", `/account/devices/${other}`, { token: laptop.body.token })).status).toBe(204);
  expect((await call("GET", "/me", { token: phone.body.token })).status).toBe(401);

  const everywhere = await call("POST", "/account/devices/log-out-everywhere", { token: laptop.body.token });
  expect(everywhere).toMatchObject({ status: 200, body: { removed: 1 } });
  expect((await call("GET", "/me", { token: laptop.body.token })).status).toBe(401);

  expect(await example.stop("SIGTERM")).toBe(0);
  expect(example.logs.some((line) => line.msg === "example stopped")).toBe(true);
});
