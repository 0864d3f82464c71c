import { describe, expect, test } from "vitest";
import { type OriginFacts, originAllowed, parseAllowedOrigin } from "../src/index.js";

const none = new Set<string>();
function post(facts: Partial<OriginFacts>): OriginFacts {
  return { method: "POST", protocol: "http", host: "api.test:3000", origin: undefined, referer: undefined, ...facts };
}

describe("the CSRF origin rule", () => {
  test("the request's own origin passes, another is refused", () => {
    expect(originAllowed(post({ origin: "http://api.test:3000" }), none)).toBe(true);
    expect(originAllowed(post({ origin: "http://evil.test" }), none)).toBe(false);
    expect(originAllowed(post({ origin: "http://api.test:3001" }), none)).toBe(false);
  });

  test("without Origin the Referer's origin is judged", () => {
    expect(originAllowed(post({ referer: "http://api.test:3000/account?x=1" }), none)).toBe(true);
    expect(originAllowed(post({ referer: "http://evil.test/page" }), none)).toBe(false);
    expect(originAllowed(post({ referer: "not a url" }), none)).toBe(false);
  });

  test("Origin wins over the Referer", () => {
    expect(originAllowed(post({ origin: "http://evil.test", referer: "http://api.test:3000/" }), none)).toBe(false);
  });

  test("an allowed origin passes", () => {
    const allowed = new Set(["https://app.test"]);
    expect(originAllowed(post({ origin: "https://app.test" }), allowed)).toBe(true);
    expect(originAllowed(post({ origin: "http://app.test" }), allowed)).toBe(false);
  });

  test("Origin: null and other schemes are refused", () => {
    expect(originAllowed(post({ origin: "null" }), none)).toBe(false);
    expect(originAllowed(post({ origin: "file:///etc" }), none)).toBe(false);
  });

  test("https from the same host passes behind a TLS proxy; an http page writing to an https server does not", () => {
    expect(originAllowed(post({ origin: "https://api.test:3000" }), none)).toBe(true);
    expect(originAllowed(post({ protocol: "https", host: "api.test", origin: "http://api.test" }), none)).toBe(false);
  });

  test("a request stating no origin at all is not a browser's cross-site request", () => {
    expect(originAllowed(post({}), none)).toBe(true);
  });

  test("allowedOrigins entries must be origins", () => {
    expect(parseAllowedOrigin("https://App.test/")).toBe("https://app.test");
    expect(parseAllowedOrigin("https://app.test/path")).toBeNull();
    expect(parseAllowedOrigin("ftp://app.test")).toBeNull();
    expect(parseAllowedOrigin("app.test")).toBeNull();
  });
});
