/**
 * What a session records of its device: a name the user can recognise in
 * the device list ("Chrome 131 on macOS", or the name the user typed, which
 * wins), the platform (`android`, `ios` or `web`), the user agent and the
 * address, each cut to session-core's input limits. The user agent is read
 * with ua-parser-js (the 1.x line, MIT licensed).
 */
import { type Device, INPUT_LIMITS } from "@multisession/session-core";
import { UAParser } from "ua-parser-js";

export interface UserAgentLabels {
  /** The browser and its major version, e.g. "Chrome 131"; null when the agent names none. */
  browser: string | null;
  /** The operating system, e.g. "macOS", "iOS", "Windows"; null when the agent names none. */
  os: string | null;
  platform: "android" | "ios" | "web";
}

/** ua-parser-js's names that people know by another. */
const OS_NAMES: Record<string, string> = {
  "Mac OS": "macOS",
  "Chromium OS": "ChromeOS",
};

export function describeUserAgent(userAgent: string | undefined): UserAgentLabels {
  if (!userAgent) return { browser: null, os: null, platform: "web" };
  const parser = new UAParser(userAgent);
  const browser = parser.getBrowser();
  // "Mobile Safari" and "Mobile Firefox" are Safari and Firefox to their users; the OS tells the rest.
  const browserName = browser.name?.replace(/^Mobile /, "");
  const osName = parser.getOS().name;
  const os = osName ? (OS_NAMES[osName] ?? osName) : null;
  return {
    browser: browserName ? [browserName, browser.major].filter(Boolean).join(" ") : null,
    os,
    platform: platformOf(os),
  };
}

function platformOf(os: string | null): UserAgentLabels["platform"] {
  if (os === "Android") return "android";
  if (os === "iOS" || os === "iPadOS") return "ios";
  return "web";
}

/** "Chrome 131 on macOS", "Chrome 131", "macOS device", or "Unknown device". */
export function deviceNameOf(labels: UserAgentLabels): string {
  if (labels.browser && labels.os) return `${labels.browser} on ${labels.os}`;
  if (labels.browser) return labels.browser;
  if (labels.os) return `${labels.os} device`;
  return "Unknown device";
}

export interface DeviceFacts {
  userAgent: string | undefined;
  ip: string | undefined;
  /** The name the user gave this device; blank counts as none. */
  name?: string | undefined;
}

/** The device record for a new session, every field within session-core's limits. */
export function deviceOf(facts: DeviceFacts): Device {
  const limits = INPUT_LIMITS.device;
  const userAgent = (facts.userAgent ?? "").slice(0, limits.userAgent);
  const labels = describeUserAgent(userAgent);
  const given = typeof facts.name === "string" ? facts.name.trim() : "";
  const device: Device = {
    name: (given || deviceNameOf(labels)).slice(0, limits.name),
    platform: labels.platform,
  };
  if (userAgent) device.userAgent = userAgent;
  if (facts.ip) device.ip = facts.ip.slice(0, limits.ip);
  return device;
}
