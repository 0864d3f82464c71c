import { describe, expect, test } from "vitest";
import { readCookie, replaceSetCookie, sessionCookie } from "../src/index.js";

describe("session cookie", () => {
  test("outside production: the plain name, HttpOnly, SameSite=Lax, Path=/, no Secure", () => {
    const cookie = sessionCookie({ name: "ms_session", secure: false, maxAgeSeconds: 2_592_000 });
    expect(cookie.name).toBe("ms_session");
    expect(cookie.serialize("dXNlcg.abc_-")).toBe(
      "ms_session=dXNlcg.abc_-; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax",
    );
  });

  test("in production: the __Host- prefix and Secure", () => {
    const cookie = sessionCookie({ name: "ms_session", secure: true, maxAgeSeconds: 60.9 });
    expect(cookie.name).toBe("__Host-ms_session");
    expect(cookie.serialize("t.k")).toBe("__Host-ms_session=t.k; Max-Age=60; Path=/; HttpOnly; SameSite=Lax; Secure");
    expect(cookie.clearing()).toMatch(
      /^__Host-ms_session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
    );
  });

  test("a token with characters a cookie would need escaped is never written", () => {
    const cookie = sessionCookie({ name: "s", secure: false, maxAgeSeconds: 1 });
    expect(() => cookie.serialize("a;b")).toThrow(TypeError);
    expect(() => cookie.serialize("")).toThrow(TypeError);
  });

  test("reads its own name among others, unquoted, and nothing for an empty value", () => {
    expect(readCookie("a=1; ms_session=tok.en; b=2", "ms_session")).toBe("tok.en");
    expect(readCookie('ms_session="tok.en"', "ms_session")).toBe("tok.en");
    expect(readCookie("xms_session=1; ms_session_x=2", "ms_session")).toBeUndefined();
    expect(readCookie("ms_session=", "ms_session")).toBeUndefined();
    expect(readCookie(undefined, "ms_session")).toBeUndefined();
  });

  test("a new value replaces an earlier Set-Cookie of the same cookie and keeps the others", () => {
    expect(replaceSetCookie(["other=1; Path=/", "ms_session=; Max-Age=0"], "ms_session=t.k; Max-Age=60")).toEqual([
      "other=1; Path=/",
      "ms_session=t.k; Max-Age=60",
    ]);
    expect(replaceSetCookie("ms_session_x=1", "ms_session=t.k")).toEqual(["ms_session_x=1", "ms_session=t.k"]);
    expect(replaceSetCookie(undefined, "ms_session=t.k")).toEqual(["ms_session=t.k"]);
  });
});
