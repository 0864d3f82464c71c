import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium, SCREENSHOT_DIR, type Stack, startStack } from "./support/stack.js";

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

async function logIn(userId: string, deviceName: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(stack.url("/"));
  await page.getByLabel("User id").fill(userId);
  await page.getByLabel("Password").fill("demo");
  await page.getByLabel("Name this device").fill(deviceName);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Your devices" }).waitFor();
  return page;
}

const deviceNames = (page: Page) => page.locator("#devices .device-name").allTextContents();
const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOT_DIR, name), fullPage: true });

describe('the "Your devices" page in Chromium', () => {
  it("two browsers of one user see both devices, sign each other out, and share user info", async () => {
    const a = await logIn("ada", "Laptop A");
    const b = await logIn("ada", "Phone B");

    // Each page lists both devices, with its own marked.
    await a.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(() => deviceNames(a)).toEqual(expect.arrayContaining(["Laptop A", "Phone B"]));
    expect(await deviceNames(b)).toEqual(expect.arrayContaining(["Laptop A", "Phone B"]));
    expect(await a.locator("#devices li", { hasText: "This device" }).locator(".device-name").textContent()).toBe(
      "Laptop A",
    );
    expect(await b.locator("#devices li", { hasText: "This device" }).locator(".device-name").textContent()).toBe(
      "Phone B",
    );
    await shot(a, "devices-two-browsers.png");

    // A signs B out; B's next action lands on the login form.
    await a.getByRole("button", { name: "Sign out Phone B" }).click();
    await expect.poll(() => deviceNames(a)).toEqual(["Laptop A"]);
    await expect.poll(() => a.getByRole("status").textContent()).toContain("Signed out Phone B");
    await b.getByRole("button", { name: "Refresh" }).click();
    await b.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await b.getByRole("status").textContent()).toContain("signed out");
    expect(await b.locator("#account").isHidden()).toBe(true);
    await shot(b, "signed-out-device.png");

    // A third browser, logged in before the edit, sees A's new info on reload.
    const c = await logIn("ada", "Tablet C");
    await a.getByLabel("Edit (JSON object)").fill('{ "displayName": "Ada Lovelace", "theme": "dark" }');
    await a.getByRole("button", { name: "Save info" }).click();
    await expect.poll(() => a.getByRole("status").textContent()).toContain("Info saved");
    await c.reload();
    await c.getByRole("heading", { name: "Your devices" }).waitFor();
    await expect.poll(() => c.locator("#user-info").textContent()).toContain('"displayName": "Ada Lovelace"');
    await shot(c, "user-info-shared.png");
    await shot(a, "devices-after-edit.png");
  });

  it("signing out everywhere sends every browser of the user back to the login form", async () => {
    const first = await logIn("grace", "Desk");
    const second = await logIn("grace", "Pocket");
    await second.getByRole("button", { name: "Sign out everywhere", exact: true }).click();
    await second.getByRole("heading", { name: "Log in" }).waitFor();
    await first.reload();
    await first.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await first.locator("#account").isHidden()).toBe(true);
  });

  it("a wrong password shows a message and stays on the login form", async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(stack.url("/"));
    await page.getByLabel("User id").fill("mallory");
    await page.getByLabel("Password").fill("guess");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("wrong user id or password");
    expect(await page.locator("#login").isVisible()).toBe(true);
  });
});
