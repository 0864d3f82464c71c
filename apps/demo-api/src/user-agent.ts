/**
 * Browser and OS names for people, read from a stored user agent with
 * ua-parser-js: "Chrome 131" and "macOS", or "Chrome 130" and "Android 15".
 * Browser versions keep their major number only. OS versions are shown for
 * the phones' systems alone: desktop browsers freeze theirs in the user
 * agent (every Mac says 10.15.7, Windows 11 says 10), so a number there
 * would mislead. A user agent that names neither yields nulls, never a guess.
 */
import UAParser from "ua-parser-js";

export interface UserAgentNames {
  /** "Chrome 131", "Firefox 133", or null when the user agent names no browser. */
  browser: string | null;
  /** "macOS", "Android 15", "iOS 18", or null when it names no system. */
  os: string | null;
}

const OS_NAMES: Record<string, string> = { "Mac OS": "macOS", "Chromium OS": "ChromeOS" };
const OS_WITH_VERSION = new Set(["Android", "iOS"]);

export function namesOf(userAgent: string | undefined): UserAgentNames {
  if (!userAgent) return { browser: null, os: null };
  const { browser, os } = new UAParser(userAgent).getResult();
  const major = (version: string | undefined) => version?.split(".")[0];
  const browserName = browser.name ? [browser.name, browser.major].filter(Boolean).join(" ") : null;
  const osName = os.name ? (OS_NAMES[os.name] ?? os.name) : null;
  const osVersion = os.name && OS_WITH_VERSION.has(os.name) ? major(os.version) : undefined;
  return { browser: browserName, os: osName && osVersion ? `${osName} ${osVersion}` : osName };
}

/** A name for a device its user did not name: "Chrome 131 on macOS", else whichever part is known. */
export function friendlyDeviceName(userAgent: string | undefined): string | null {
  const { browser, os } = namesOf(userAgent);
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os;
}
