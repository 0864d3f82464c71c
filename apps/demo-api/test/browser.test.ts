/**
 * The "Your devices" page in Debian's Chromium (playwright-core), against the
 * real API and worker processes on the suite's private redis-server, and,
 * for expiry, an API of its own with a short idle timeout. Screenshots go to
 * test-output/; the main one's path is printed.
 */
import { join } from "node:path";
import type { Browser, BrowserContext, Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type ApiOnPrivateRedis, startApiOnPrivateRedis } from "./support/private-redis.js";
import { ANDROID_UA, call, launchChromium, SCREENSHOT_DIR, type Stack, startStack } from "./support/stack.js";

const MAC_CHROME_UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const MINUTE = 60_000;

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  stack = await startStack(inject("redisUrl"));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A fresh browser (its own cookies and storage) on the page, showing the login form. */
async function openPage(
  target: { url(path: string): string },
  options: { userAgent?: string; fakeClock?: boolean } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 900, height: 900 },
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
  });
  contexts.push(context);
  const page = await context.newPage();
  // A clock the test can move forward; it runs at the real pace until then.
  if (options.fakeClock) await page.clock.install();
  await page.goto(target.url("/"));
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  return page;
}

async function logIn(page: Page, userId: string, deviceName?: string): Promise<Page> {
  await page.getByLabel("User id").fill(userId);
  await page.getByLabel("Password").fill("demo");
  if (deviceName) await page.getByLabel("Name this device").fill(deviceName);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Your devices" }).waitFor();
  return page;
}

/** The session token the page's browser holds in its httpOnly cookie, for API calls beside the page. */
async function tokenOf(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name.endsWith("ms_session"));
  if (!cookie) throw new Error("the page holds no session cookie");
  return cookie.value;
}

const deviceNames = (page: Page) => page.locator("#devices .device-name").allTextContents();
const deviceItem = (page: Page, name: string) =>
  page.locator("#devices li").filter({ has: page.locator(".device-name", { hasText: name }) });
const statusText = async (page: Page) => (await page.locator("#status").textContent()) ?? "";
const shot = async (page: Page, name: string) => {
  const path = join(SCREENSHOT_DIR, name);
  await page.screenshot({ path, fullPage: true });
  return path;
};

describe('the "Your devices" page in Chromium', () => {
  it("says nothing about signing out on a first visit, and says it after an actual sign-out, once", async () => {
    const page = await openPage(stack);
    expect(await statusText(page)).toBe("");
    expect(await page.locator("#status").isHidden()).toBe(true);
    await page.reload();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(page)).toBe("");

    await logIn(page, "linus", "Desk");
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(page)).toBe("You are signed out.");
    // The next visit is a first visit again: no session, nothing to report.
    await page.reload();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(page)).toBe("");
  });

  it("lists this device first and marked, with browser and OS names and relative times; devices sign each other out", async () => {
    const a = await logIn(await openPage(stack, { userAgent: MAC_CHROME_UA, fakeClock: true }), "ada", "Laptop A");
    const b = await logIn(await openPage(stack, { userAgent: ANDROID_UA }), "ada", "Phone B");

    // Laptop A is the least recently active, yet first on its own page; each page marks its own device.
    await a.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(() => deviceNames(a)).toEqual(["Laptop A", "Phone B"]);
    expect(await deviceNames(b)).toEqual(["Phone B", "Laptop A"]);
    expect(await a.locator("#devices li").first().locator(".badge").textContent()).toBe("This device");
    expect(await b.locator("#devices li").first().locator(".badge").textContent()).toBe("This device");
    expect(await a.locator("#devices .badge").count()).toBe(1);

    // Browser and OS names, read by the server from each device's user agent.
    expect(await deviceItem(a, "Laptop A").locator(".software").textContent()).toBe("Chrome 131 on macOS");
    expect(await deviceItem(a, "Phone B").locator(".software").textContent()).toBe("Chrome 130 on Android");

    // Two and a half minutes later on A's clock, Phone B's times read as people say them.
    const phoneSeenAt = Number(await deviceItem(a, "Phone B").locator(".seen time").first().getAttribute("data-at"));
    const browserNow = await a.evaluate(() => Date.now());
    await a.clock.fastForward(phoneSeenAt + 2.5 * MINUTE - browserNow);
    await expect
      .poll(() => deviceItem(a, "Phone B").locator(".seen").textContent())
      .toMatch(/^Active 2 minutes ago · signed in \d+ minutes ago$/);
    expect(await deviceItem(a, "Laptop A").locator(".seen").textContent()).toMatch(
      /^Active now · signed in \d+ minutes ago$/,
    );
    const screenshot = await shot(a, "devices-page.png");
    console.log(`"Your devices" page screenshot: ${screenshot}`);

    // A signs B out; B's next action lands on the login form, which says why, once.
    await a.getByRole("button", { name: "Sign out Phone B" }).click();
    await expect.poll(() => deviceNames(a)).toEqual(["Laptop A"]);
    await expect.poll(() => statusText(a)).toContain("Signed out Phone B");
    await b.getByRole("button", { name: "Refresh" }).click();
    await b.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(b)).toBe("You were signed out. Please log in again.");
    expect(await b.locator("#account").isHidden()).toBe(true);
    await shot(b, "signed-out-device.png");
    await b.reload();
    await b.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(b)).toBe("");
  });

  it("edits user info as fields, keeps keys it does not edit, and shares it with the user's other devices", async () => {
    const a = await logIn(await openPage(stack), "hedy", "Laptop");
    const c = await logIn(await openPage(stack), "hedy", "Tablet");
    const token = await tokenOf(a);
    // A key the page has no field for, set by another client: shown, and kept by the page's saves.
    await call(stack, "PUT", "/me/info", { token, body: { plan: "pro" } });
    await a.reload();
    await expect.poll(() => a.locator("#other-info-list").textContent()).toBe("planpro");

    await a.getByLabel("Display name").fill("Hedy Lamarr");
    await a.getByLabel("Email").fill("hedy@example.com");
    await a.getByLabel("Theme").selectOption("dark");
    await a.getByRole("button", { name: "Save info" }).click();
    await expect.poll(() => statusText(a)).toBe("Info saved.");
    expect((await call(stack, "GET", "/me", { token })).body?.userInfo).toEqual({
      plan: "pro",
      displayName: "Hedy Lamarr",
      email: "hedy@example.com",
      theme: "dark",
    });

    // The tablet, signed in before the edit, sees it on its next load.
    await c.reload();
    await c.getByRole("heading", { name: "Your devices" }).waitFor();
    await expect.poll(() => c.getByLabel("Display name").inputValue()).toBe("Hedy Lamarr");
    expect(await c.getByLabel("Email").inputValue()).toBe("hedy@example.com");
    expect(await c.getByLabel("Theme").inputValue()).toBe("dark");
    expect(await c.locator("#whoami").textContent()).toBe("Signed in as Hedy Lamarr (hedy)");
    expect(await c.locator("html").getAttribute("data-theme")).toBe("dark");
    await shot(c, "user-info-shared.png");

    // An emptied field removes its key.
    await c.getByLabel("Email").fill("");
    await c.getByRole("button", { name: "Save info" }).click();
    await expect.poll(() => statusText(c)).toBe("Info saved.");
    expect((await call(stack, "GET", "/me", { token })).body?.userInfo).toEqual({
      plan: "pro",
      displayName: "Hedy Lamarr",
      theme: "dark",
    });
  });

  it('"Sign out everywhere" asks first: Cancel keeps every device, confirming signs them all out', async () => {
    const first = await logIn(await openPage(stack), "grace", "Desk");
    const second = await logIn(await openPage(stack), "grace", "Pocket");
    await second.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(() => deviceNames(second)).toHaveLength(2);

    await second.getByRole("button", { name: "Sign out everywhere", exact: true }).click();
    const dialog = second.getByRole("dialog", { name: "Sign out everywhere?" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("all 2 of your devices, this one included");
    await shot(second, "sign-out-everywhere-confirm.png");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    await second.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(() => deviceNames(second)).toEqual(["Pocket", "Desk"]);

    await second.getByRole("button", { name: "Sign out everywhere", exact: true }).click();
    await dialog.getByRole("button", { name: "Yes, sign out everywhere" }).click();
    await second.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(second)).toBe("You are signed out on every device (2).");
    await first.reload();
    await first.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(first)).toBe("You were signed out. Please log in again.");
    expect(await first.locator("#account").isHidden()).toBe(true);
  });

  it("a wrong password shows a message and stays on the login form", async () => {
    const page = await openPage(stack);
    await page.getByLabel("User id").fill("mallory");
    await page.getByLabel("Password").fill("guess");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => statusText(page)).toContain("wrong user id or password");
    expect(await page.locator("#login").isVisible()).toBe(true);
  });

  it("relative times: under a minute is just now, then the largest whole unit", async () => {
    const page = await openPage(stack);
    const now = Date.UTC(2026, 0, 15, 12);
    const ago = (ms: number) => now - ms;
    const cases: [number, string][] = [
      [ago(30_000), "just now"],
      [ago(2 * MINUTE + 50_000), "2 minutes ago"],
      [ago(59 * MINUTE), "59 minutes ago"],
      [ago(60 * MINUTE), "1 hour ago"],
      [ago(26 * 60 * MINUTE), "yesterday"],
      [ago(3 * 24 * 60 * MINUTE), "3 days ago"],
      [ago(8 * 24 * 60 * MINUTE), "last week"],
      [ago(400 * 24 * 60 * MINUTE), "last year"],
      [now + 3 * 24 * 60 * MINUTE, "in 3 days"],
    ];
    // A string, so that the test runner's transform leaves the page's own import() alone.
    const times = JSON.stringify(cases.map(([time]) => time));
    const said = await page.evaluate(
      `import("/relative-time.js").then(({ relativeTime }) => ${times}.map((time) => relativeTime(time, ${now})))`,
    );
    expect(said).toEqual(cases.map(([, text]) => text));
  });
});

describe("an expired session on the page", () => {
  let api: ApiOnPrivateRedis;
  beforeAll(async () => {
    api = await startApiOnPrivateRedis({ SESSION_IDLE_TIMEOUT_MS: "5000", SESSION_TOUCH_INTERVAL_MS: "0" });
  });
  afterAll(() => api?.close());

  it("says the session expired, not that the user was signed out", async () => {
    const page = await openPage(api.api);
    const listed = page.waitForResponse((response: Response) => new URL(response.url()).pathname === "/sessions");
    await logIn(page, "ida", "Laptop");
    const { sessions } = (await (await listed).json()) as { sessions: { current: boolean; expiresAt: number }[] };
    const expiresAt = sessions.find((session) => session.current)?.expiresAt ?? 0;
    // Nothing touches the session until the click below: it expires when the server said it would.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 500));
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await statusText(page)).toBe("Your session expired. Please log in again.");
  });
});
