/**
 * Forged, mangled and swapped tokens against `authenticate` and `get`. The
 * only strings that authenticate are the exact tokens `create` returned, each
 * to its own user's session; everything else is a typed error, and no
 * attempt logs anyone out or changes what they see.
 */
import { parseToken } from "@multisession/session-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyString } from "./support/arbitraries.js";
import { type AttackRedis, dumpRedis, leaked, outcomeOf, startPrivateRedis } from "./support/private-redis.js";

interface Real {
  userId: string;
  token: string;
  secret: string;
  handle: string;
}

let env: AttackRedis;
let store: ReturnType<AttackRedis["newStore"]>["store"];
const reals: Real[] = [];

// Users whose encoded ids differ by little: one letter's case, a trailing byte, a multi-byte character.
const USERS = ["alice", "Alice", "alice0", "bob", "é", "e\u0301", "😀", "user:{x"];

beforeAll(async () => {
  env = await startPrivateRedis();
  store = env.newStore({ touchIntervalMs: 0 }).store;
  for (const userId of USERS.filter((id) => !id.includes("{"))) {
    for (let i = 0; i < 2; i++) {
      const { token, sessionId, session } = await store.create(userId, { data: { owner: userId, i } });
      reals.push({ userId, token, secret: sessionId, handle: session.handle });
    }
  }
});
afterAll(() => env?.close());

const flipCase = (text: string, at: number) => {
  const c = text[at % text.length] as string;
  const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
  const i = at % text.length;
  return text.slice(0, i) + flipped + text.slice(i + 1);
};
const toBase64 = (base64url: string) => base64url.replace(/-/g, "+").replace(/_/g, "/");
const pad = (text: string) => text + "=".repeat((4 - (text.length % 4)) % 4 || 1);
const userPart = (real: Real) => real.token.slice(0, real.token.indexOf("."));

type Forgery = (mine: Real, other: Real, at: number, junk: string) => string;

const FORGERIES: Record<string, Forgery> = {
  truncated: (m, _o, at) => m.token.slice(0, at % m.token.length),
  truncatedSecret: (m, _o, at) => m.token.slice(0, m.token.length - 1 - (at % 43)),
  extended: (m, _o, _at, junk) => m.token + (junk || "A"),
  prefixed: (m, _o, _at, junk) => (junk || " ") + m.token,
  whitespace: (m) => ` ${m.token}\n`,
  bearer: (m) => `Bearer ${m.token}`,
  caseFlipped: (m, _o, at) => flipCase(m.token, at),
  secretCaseFlipped: (m, _o, at) => `${userPart(m)}.${flipCase(m.secret, at)}`,
  userCaseFlipped: (m, _o, at) => `${flipCase(userPart(m), at)}.${m.secret}`,
  base64Secret: (m) => `${userPart(m)}.${toBase64(m.secret)}`,
  base64User: (m) => `${toBase64(Buffer.from(m.userId).toString("base64"))}.${m.secret}`,
  paddedUser: (m) => `${pad(userPart(m))}.${m.secret}`,
  paddedSecret: (m) => `${userPart(m)}.${m.secret}=`,
  plainUser: (m) => `${m.userId}.${m.secret}`,
  urlEncoded: (m) => encodeURIComponent(m.token).replace(/\./g, "%2E"),
  doubleDot: (m) => `${userPart(m)}..${m.secret}`,
  swappedUser: (m, o) => `${userPart(o)}.${m.secret}`,
  othersSecret: (m, o) => `${userPart(m)}.${o.secret}`,
  secretAlone: (m) => m.secret,
  dotSecret: (m) => `.${m.secret}`,
  userAlone: (m) => `${userPart(m)}.`,
  handleAsSecret: (m) => `${userPart(m)}.${m.handle.padEnd(43, "A")}`,
  lastCharTwin: (m) => {
    // The last character carries 2 unused bits: a twin decodes to the same bytes but is another string.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(m.secret.at(-1) as string);
    return `${userPart(m)}.${m.secret.slice(0, -1)}${alphabet[last ^ 1]}`;
  },
  reEncodedUser: (m) =>
    `${Buffer.from(Buffer.from(m.userId).toString("latin1"), "utf8").toString("base64url")}.${m.secret}`,
  junk: (_m, _o, _at, junk) => junk,
  junkWithDot: (_m, _o, _at, junk) => `${junk}.${junk}`,
};

describe("hostile tokens", () => {
  it("only the exact tokens create returned authenticate, each to its own user's session", async () => {
    const real = fc.constantFrom(...reals);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(FORGERIES)),
        real,
        real,
        fc.nat(),
        anyString,
        async (name, mine, other, at, junk) => {
          const forged = (FORGERIES[name] as Forgery)(mine, other, at, junk);
          const viaToken = await outcomeOf(() => store.authenticate(forged));
          const exact = reals.find((r) => r.token === forged);
          if (exact) {
            expect(viaToken.ok && viaToken.value.handle).toBe(exact.handle);
            expect(viaToken.ok && viaToken.value.userId).toBe(exact.userId);
          } else {
            expect(viaToken.ok, `${name}: ${JSON.stringify(forged)}`).toBe(false);
          }
          // The same secret under every real user id: only its own user has it.
          const secret = forged.slice(forged.indexOf(".") + 1);
          for (const userId of USERS) {
            const viaGet = await outcomeOf(() => store.get(userId, secret));
            const owner = reals.find((r) => r.secret === secret && r.userId === userId);
            if (owner) expect(viaGet.ok && viaGet.value.handle).toBe(owner.handle);
            else expect(viaGet.ok).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a token parses to the user and secret it was made of, and nothing else parses to them", async () => {
    await fc.assert(
      fc.property(anyString, (text) => {
        let parsed: { userId: string; sessionId: string } | undefined;
        try {
          parsed = parseToken(text);
        } catch (error) {
          expect((error as { code?: string }).code).toBe("ERR_INVALID_INPUT");
          return;
        }
        expect(`${Buffer.from(parsed.userId).toString("base64url")}.${parsed.sessionId}`).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });

  it("after every forgery, every real session is still live and unchanged, and Redis holds no secret", async () => {
    for (const r of reals) {
      const session = await store.authenticate(r.token);
      expect(session.userId).toBe(r.userId);
      expect((session.data as { owner: string }).owner).toBe(r.userId);
    }
    for (const userId of new Set(reals.map((r) => r.userId))) {
      expect((await store.list(userId)).length).toBe(2);
    }
    const { text } = await dumpRedis(env.redis);
    expect(
      leaked(
        text,
        reals.flatMap((r) => [r.secret, r.token]),
      ),
    ).toEqual([]);
  });
});
