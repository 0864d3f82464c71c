import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { INPUT_LIMITS, InvalidInputError } from "../src/index.js";
import { decodeToken, encodeToken, handleOf, newSecret, parseToken, sessionKeyOf } from "../src/token.js";

describe("secrets and tokens", () => {
  it("makes 256-bit URL-safe secrets that never repeat", () => {
    const secrets = new Set(Array.from({ length: 1_000 }, newSecret));
    expect(secrets.size).toBe(1_000);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret, "base64url").length * 8).toBe(256);
    }
  });

  it("stores a SHA-256 of the secret and shows a prefix of that as the handle", () => {
    const secret = newSecret();
    const key = sessionKeyOf(secret);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(secret);
    expect(handleOf(key)).toBe(key.slice(0, 16));
  });

  it("round-trips any valid user id through a token", () => {
    const secret = newSecret();
    for (const userId of [
      "42",
      "alice@example.com",
      "ü-ñ-日本",
      "a.b.c",
      "x".repeat(256),
      "日".repeat(256),
      "😀".repeat(128),
      "😀",
    ]) {
      expect(decodeToken(encodeToken(userId, secret))).toEqual({ userId, secret });
    }
  });

  it("keeps nothing of the tokens it decoded: 70,000 strangers' tokens leave the heap as it was", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const secret = newSecret();
    // Well-formed tokens of 256-unit user ids nobody has: about 1.5 KB of input each.
    const tokenOf = (i: number) => encodeToken(`${i}`.padEnd(INPUT_LIMITS.userId, "日"), secret);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 70_000; i++) expect(decodeToken(tokenOf(i)).secret).toBe(secret);
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    expect(retained, `${(retained / 2 ** 20).toFixed(1)} MB retained`).toBeLessThan(8 * 2 ** 20);
  });

  it("parseToken gives back the user id and the session id create returned", () => {
    const secret = newSecret();
    expect(parseToken(encodeToken("ada", secret))).toEqual({ userId: "ada", sessionId: secret });
    expect(() => parseToken("nonsense")).toThrow(InvalidInputError);
  });

  it.each([
    ["not a string", 42],
    ["empty", ""],
    ["without a dot", "abc"],
    ["with two dots", `YQ.${"A".repeat(20)}.${"A".repeat(22)}`],
    ["with a short secret", "YQ.abc"],
    ["with bad characters", `Y+Q.${"A".repeat(43)}`],
    ["with a non-canonical user part", `YR.${"A".repeat(43)}`],
    ["with a user part that is not UTF-8", `${Buffer.from([0x61, 0xff]).toString("base64url")}.${"A".repeat(43)}`],
    ["with an overlong UTF-8 user part", `${Buffer.from([0xc1, 0x81]).toString("base64url")}.${"A".repeat(43)}`],
    ["with a UTF-8 encoded surrogate", `${Buffer.from([0xed, 0xa0, 0x80]).toString("base64url")}.${"A".repeat(43)}`],
    ["with a user id holding a brace", `${Buffer.from("a{b}").toString("base64url")}.${"A".repeat(43)}`],
    ["far too long", `${"Q".repeat(5_000)}.${"A".repeat(43)}`],
  ])("rejects a token %s with InvalidInputError on field token", (_, token) => {
    expect(() => decodeToken(token)).toThrow(InvalidInputError);
    try {
      decodeToken(token);
    } catch (error) {
      expect((error as InvalidInputError).field).toBe("token");
      if (typeof token === "string" && token.length > 3) expect((error as Error).message).not.toContain(token);
    }
  });
});
