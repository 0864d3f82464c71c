import { INPUT_LIMITS } from "@multisession/session-core";
import { describe, expect, test } from "vitest";
import { describeUserAgent, deviceOf } from "../src/index.js";
import { CHROME_MAC, FIREFOX_ANDROID, SAFARI_IPHONE } from "./support/store.js";

describe("device names from the user agent", () => {
  test("Chrome on a Mac is 'Chrome 131 on macOS', platform web", () => {
    expect(describeUserAgent(CHROME_MAC)).toEqual({ browser: "Chrome 131", os: "macOS", platform: "web" });
    expect(deviceOf({ userAgent: CHROME_MAC, ip: "10.0.0.1" })).toEqual({
      name: "Chrome 131 on macOS",
      platform: "web",
      userAgent: CHROME_MAC,
      ip: "10.0.0.1",
    });
  });

  test("an iPhone is platform ios, an Android phone android", () => {
    expect(deviceOf({ userAgent: SAFARI_IPHONE, ip: undefined })).toMatchObject({
      name: "Safari 17 on iOS",
      platform: "ios",
    });
    expect(deviceOf({ userAgent: FIREFOX_ANDROID, ip: undefined })).toMatchObject({
      name: "Firefox 133 on Android",
      platform: "android",
    });
  });

  test("a name the user gave wins; a blank one does not count", () => {
    expect(deviceOf({ userAgent: CHROME_MAC, ip: undefined, name: "  Work laptop " }).name).toBe("Work laptop");
    expect(deviceOf({ userAgent: CHROME_MAC, ip: undefined, name: "   " }).name).toBe("Chrome 131 on macOS");
  });

  test("no user agent: 'Unknown device' on the web, with no userAgent or ip field", () => {
    expect(deviceOf({ userAgent: undefined, ip: undefined })).toEqual({ name: "Unknown device", platform: "web" });
  });

  test("every field is cut to session-core's limits", () => {
    const device = deviceOf({ userAgent: "x".repeat(2000), ip: "1".repeat(200), name: "n".repeat(500) });
    expect(device.name).toHaveLength(INPUT_LIMITS.device.name);
    expect(device.userAgent).toHaveLength(INPUT_LIMITS.device.userAgent);
    expect(device.ip).toHaveLength(INPUT_LIMITS.device.ip);
  });
});
