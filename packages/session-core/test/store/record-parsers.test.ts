/**
 * One definition of a valid record, two parsers: `decodeRecord` (TypeScript) and the scripts'
 * include (Lua, with Redis's cjson). Both are fed the same values, hand-written and generated, and
 * must agree on every one: corrupt or not, and if not, on the times, the handle and the device.
 * The Lua side runs in the real redis-server, in a script made of the include and a few lines.
 */
import { readFileSync } from "node:fs";
import { seededRandom } from "@multisession/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeHeader, decodeRecord, encodeRecord } from "../../src/index.js";
import { newRedis } from "../support/store-context.js";

const include = readFileSync(new URL("../../src/scripts/includes/record.lua", import.meta.url), "utf8");

/** The Lua verdict on each ARGV pair (field, value): false when corrupt, else what the record says. */
const JUDGE = `#!lua flags=no-writes
${include}
local out = {}
for i = 1, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  local c, s, e, a, text, body = parseRecord(value)
  local live = liveExpiryOf(value, -1)
  if not c then
    -- liveExpiryOf must judge alike (it decodes the body only when the header says live).
    out[#out + 1] = { 0, live and 1 or 0 }
  else
    local device = {}
    for k = 2, 5 do
      local v = body[k]
      device[k - 1] = type(v) == 'string' and v or false
    end
    out[#out + 1] = { 1, live and 1 or 0, c, s, e, handleOfBody(field, body), recordHandle(field, value),
      device[1], device[2], device[3], device[4] }
  end
end
return out
`;

/** The Lua parseHeader of each ARGV value: { 1, createdAt, lastSeenAt, expiresAt } or { 0 }. */
const HEADER = `#!lua flags=no-writes
${include}
local out = {}
for i = 1, #ARGV do
  local c, s, e = parseHeader(ARGV[i])
  out[i] = c and { 1, c, s, e } or { 0 }
end
return out
`;

const WITH_HANDLE = `#!lua flags=no-writes
${include}
return withHandle(ARGV[1], ARGV[2])
`;

const FIELD = "Fq0_-fieldfieldfieldfieldfieldfieldfieldfie";
const HANDLE = "Hh0_-handlehandl";
const NOW = 1_780_000_000_000;
const header = `2|${NOW.toString(36)}|0|${(60_000).toString(36)}|${(120_000).toString(36)}|`;

type Sample = string | Buffer;

/** The same record with a body of `body` (JSON text). */
const withBody = (body: string) => `${header}${body}`;

const deep = (levels: number, open: string, close: string) => `${open.repeat(levels)}${close.repeat(levels)}`;

const handWritten: Sample[] = [
  // Written by this release, and by encodeRecord.
  encodeRecord({ createdAt: NOW, lastSeenAt: NOW, expiresAt: NOW + 1, absoluteExpiresAt: NOW + 2 }, { a: 1 }, {}),
  encodeRecord(
    { createdAt: NOW, lastSeenAt: NOW + 5, expiresAt: NOW + 9, absoluteExpiresAt: NOW + 9 },
    [1, "x", null, { "é😀": "\n\u0000" }],
    { name: "n", platform: "p", userAgent: 'a "quoted" \\ ua', ip: "198.51.100.7" },
  ),
  encodeRecord({ createdAt: 0, lastSeenAt: 0, expiresAt: 0, absoluteExpiresAt: 0 }, null, { ip: "::1" }, HANDLE),
  encodeRecord({ createdAt: NOW, lastSeenAt: NOW, expiresAt: NOW, absoluteExpiresAt: NOW }, "\ud83d\ude00", {}, HANDLE),
  // A newer release's extra elements: read, whatever they hold.
  withBody('[1,null,null,null,null,null,{"x":[1,2]}]'),
  withBody(`[1,"a",null,null,"i","${HANDLE}",[1.5e300],"z",null,true]`),
  withBody('[1,null,null,null,null,null,"anything",1.]'),
  // Whitespace between tokens, as JSON allows it.
  withBody('[ 1 ,\t"a" ]\n'),
  withBody("\r\n[1]"),
  withBody("[1]\u000c"),
  withBody("\u000b[1]"),
  // Numbers.
  ...["-0", "1e5", "1E+2", "1.5e-3", "1e400", "-1e-400", "123456789012345678901234567890", "0.0", "1e05"].map((n) =>
    withBody(`[${n}]`),
  ),
  ...[
    "1.",
    "1.e5",
    "-.5",
    ".5",
    "+1",
    "0x10",
    "01",
    "-01",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e",
    "-",
    "1.5.3",
    "--1",
  ].map((n) => withBody(`[${n}]`)),
  withBody('["version 1. ok", "-.5 in a string"]'),
  withBody('["1."]'),
  // Strings.
  withBody('["\\u00e9\\ud83d\\ude00\\"\\/\\\\u0041"]'),
  withBody('["\\ud800"]'),
  withBody('["\\udc00"]'),
  withBody('["\\ud800\\u0041"]'),
  withBody('["\\ud800x"]'),
  withBody('["a\\ud83d\\ude00\\ud83d"]'),
  withBody('[{"\\ud800":1}]'),
  withBody('["\\\\ud800"]'),
  withBody('["\\a"]'),
  withBody('["\\u12G4"]'),
  withBody('["a\nb"]'),
  withBody('["a\tb"]'),
  withBody('["\u001f"]'),
  // Raw control characters: inside strings as cjson takes them, not after a backslash, not outside.
  withBody('[{"k\u0001":"\u0002\u000b"}]'),
  withBody('["a\\\nb"]'),
  withBody('["a\\\u0001"]'),
  withBody("[1,\u000b2]"),
  withBody('["ok", "\u0007"]'),
  withBody("[1]\u0000x"),
  withBody('["a\u0000b"]'),
  withBody('["\\u0000"]'),
  withBody('[{"a":1,"a":2}]'),
  // Shapes.
  ...["[]", "{}", '{"0":1}', '"x"', "5", "null", "[1,]", "[1] x", "[1]]", "[1],", "", "[", "[1", "[null]"].map(
    withBody,
  ),
  ...["[1,5]", "[1,true]", "[1,[]]", "[1,{}]", '[1,"a",2]', '[1,"a","b","c",false]'].map(withBody),
  ...[
    '[1,null,null,null,null,"short"]',
    `[1,null,null,null,null,"${HANDLE}x"]`,
    '[1,null,null,null,null,"Hh0_-handlehand+"]',
    "[1,null,null,null,null,5]",
    '[1,null,null,null,null,""]',
    '[1,null,null,null,null,"Hh0_-handlehand\\u006c"]',
    `[1,null,null,null,null,"${HANDLE}"]`,
    `[1,null,null,null,null,"${HANDLE}",1]`,
  ].map(withBody),
  // Depth: cjson's 1000 levels, the body array being the first.
  withBody(`[${deep(999, "[", "]")}]`),
  withBody(`[${deep(1000, "[", "]")}]`),
  withBody(`[${deep(998, '{"a":', "}").replace(/\{"a":\}/, '{"a":[]}')}]`),
  withBody(`[${'{"a":'.repeat(999)}1${"}".repeat(999)}]`),
  withBody(`[${'{"a":'.repeat(1000)}1${"}".repeat(1000)}]`),
  // Headers.
  `2|${"1".repeat(10)}|0|0|0|[1]`,
  `2|${"1".repeat(11)}|0|0|0|[1]`,
  `2|0000000001|000000000z|0|0|[1]`,
  `2|1|1|1|${"z".repeat(10)}|[1]`,
  `2|1|1|1|${"0".repeat(16)}1|[1]`,
  "2|1|1|1|1|",
  "2||1|1|1|[1]",
  "2|1|1|1|[1]",
  "2|A|1|1|1|[1]",
  "2|-1|1|1|1|[1]",
  "2|+1|1|1|1|[1]",
  "2| 1|1|1|1|[1]",
  "2|1|1|1|1 |[1]",
  "1|1|1|1|1|[1]",
  '1|1|1|1|1|{"d":1}',
  "3|1|1|1|1|[1]",
  "2 |1|1|1|1|[1]",
  "garbage",
  "",
  // Bytes that are not UTF-8, decoded by the client as U+FFFD: inside a string, and outside.
  Buffer.concat([Buffer.from(`${header}["a`), Buffer.from([0xff, 0xc0, 0xed, 0xa0, 0x80]), Buffer.from('"]')]),
  Buffer.concat([Buffer.from(`${header}[1`), Buffer.from([0xff]), Buffer.from("]")]),
  Buffer.concat([Buffer.from(`${header}["`), Buffer.from([0xe2]), Buffer.from('",1]')]),
];

const ALPHABET = ['"', "\\", "[", "]", "{", "}", ",", ":", ".", "-", "+", "e", "0", "1", "9", "u", "d", "8", "x"];
const ALPHABET_MORE = [" ", "\n", "\t", "\u0000", "\u0001", "n", "null", "true", "|", "a", "z", "é", "😀", "\\ud800"];

/** Valid records, each mutated a few times: characters inserted, deleted, replaced, or the value cut short. */
function generated(count: number): string[] {
  const next = seededRandom(20261127);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const seeds = handWritten.filter((sample): sample is string => typeof sample === "string" && sample.startsWith("2|"));
  const out: string[] = [];
  while (out.length < count) {
    let value = pick(seeds);
    const edits = 1 + Math.floor(next() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * (value.length + 1));
      const piece = next() < 0.8 ? pick(ALPHABET) : pick(ALPHABET_MORE);
      const kind = next();
      if (kind < 0.4) value = value.slice(0, at) + piece + value.slice(at);
      else if (kind < 0.7) value = value.slice(0, at) + value.slice(at + 1);
      else if (kind < 0.95) value = value.slice(0, at) + piece + value.slice(at + 1);
      else value = value.slice(0, at);
    }
    out.push(value);
  }
  return out;
}

type LuaVerdict = [0, 0 | 1] | [1, 0 | 1, number, number, number, string, string, ...(string | null)[]];

let redis: ReturnType<typeof newRedis>;
beforeAll(() => {
  redis = newRedis();
});
afterAll(() => redis.quit());

async function judgeInLua(samples: readonly Sample[]): Promise<LuaVerdict[]> {
  const verdicts: LuaVerdict[] = [];
  for (let i = 0; i < samples.length; i += 200) {
    const args = samples.slice(i, i + 200).flatMap((sample) => [FIELD, sample]);
    verdicts.push(...((await redis.eval(JUDGE, 0, ...args)) as LuaVerdict[]));
  }
  return verdicts;
}

function judgeInTypeScript(sample: Sample) {
  const value = typeof sample === "string" ? sample : sample.toString("utf8");
  const session = decodeRecord(FIELD, "user", value, null);
  if (!session) return null;
  const { device } = session;
  return {
    times: [session.createdAt, session.lastSeenAt, session.expiresAt],
    handle: session.handle,
    device: [device.name, device.platform, device.userAgent, device.ip].map((field) => field ?? null),
  };
}

async function expectAgreement(samples: readonly Sample[]): Promise<{ valid: number; corrupt: number }> {
  const verdicts = await judgeInLua(samples);
  expect(verdicts).toHaveLength(samples.length);
  let valid = 0;
  samples.forEach((sample, i) => {
    const lua = verdicts[i] as LuaVerdict;
    const ts = judgeInTypeScript(sample);
    const shown = JSON.stringify(typeof sample === "string" ? sample : sample.toString("latin1")).slice(0, 300);
    // The body of a record valid in the header alone is judged by liveExpiryOf as by parseRecord.
    expect(lua[1], `liveExpiryOf vs parseRecord on ${shown}`).toBe(lua[0]);
    if (lua[0] === 0) {
      expect(ts, `TypeScript reads, Lua refuses: ${shown}`).toBeNull();
      return;
    }
    valid++;
    expect(ts, `Lua reads, TypeScript refuses: ${shown}`).not.toBeNull();
    const [, , createdAt, lastSeenAt, expiresAt, handle, recordHandle, ...device] = lua;
    expect({ times: [createdAt, lastSeenAt, expiresAt], handle, device }, shown).toEqual(ts);
    expect(recordHandle, shown).toBe(handle);
  });
  return { valid, corrupt: samples.length - valid };
}

describe("decodeRecord and the Lua parser", () => {
  it("agree on hand-written valid, corrupt, edge-case and newer-release values", async () => {
    const { valid, corrupt } = await expectAgreement(handWritten);
    // Both kinds are well represented, so agreement is not all-refuse or all-accept.
    expect(valid).toBeGreaterThan(30);
    expect(corrupt).toBeGreaterThan(60);
  });

  it("agree on generated values: valid records with characters inserted, deleted or replaced", async () => {
    const { valid, corrupt } = await expectAgreement(generated(4_000));
    expect(valid).toBeGreaterThan(150);
    expect(corrupt).toBeGreaterThan(1_500);
  });

  it("agree on a stored handle and on the handle taken from the field", async () => {
    const stored = encodeRecord(
      { createdAt: NOW, lastSeenAt: NOW, expiresAt: NOW, absoluteExpiresAt: NOW },
      1,
      {},
      HANDLE,
    );
    const derived = withBody("[1]");
    const [lua1, lua2] = await judgeInLua([stored, derived]);
    expect(lua1?.[5]).toBe(HANDLE);
    expect(lua2?.[5]).toBe(FIELD.slice(0, 16));
    expect(decodeRecord(FIELD, "u", stored, null)?.handle).toBe(HANDLE);
    expect(decodeRecord(FIELD, "u", derived, null)?.handle).toBe(FIELD.slice(0, 16));
  });

  it("leave cjson's number setting as they found it, for other scripts on the same Redis", async () => {
    const setting = "#!lua flags=no-writes\nreturn cjson.decode_invalid_numbers() and 1 or 0";
    const before = await redis.eval(setting, 0);
    await judgeInLua(handWritten);
    expect(await redis.eval(setting, 0)).toBe(before);
  });
});

describe("decodeHeader and parseHeader, the sweep's judges", () => {
  // What Lua's tonumber(s, 36) would take but a header time is not.
  const loose = [" 1", "-1", "+1", "Z", "1.5", "", "1".repeat(11)].map(
    (time) => `2|${NOW.toString(36)}|0|${time}|${time}|[{}]`,
  );
  it("agree in TypeScript and Lua on every sample, and with decodeRecord on every valid record", async () => {
    const samples = [...handWritten, ...generated(2_000), ...loose];
    const verdicts: number[][] = [];
    for (let i = 0; i < samples.length; i += 200) {
      verdicts.push(...((await redis.eval(HEADER, 0, ...samples.slice(i, i + 200))) as number[][]));
    }
    let valid = 0;
    samples.forEach((sample, i) => {
      const value = typeof sample === "string" ? sample : sample.toString("utf8");
      const shown = JSON.stringify(value).slice(0, 300);
      const header = decodeHeader(value);
      expect(verdicts[i], shown).toEqual(header ? [1, header.createdAt, header.lastSeenAt, header.expiresAt] : [0]);
      const session = decodeRecord(FIELD, "user", value, null);
      if (session) expect(header?.expiresAt, shown).toBe(session.expiresAt);
      if (header) valid++;
    });
    expect(valid).toBeGreaterThan(100);
    for (const value of loose) expect(decodeHeader(value), value).toBeNull();
  });
});

describe("withHandle (for the rotate script)", () => {
  const cases: [body: string, expected: string][] = [
    ["[1]", `[1,null,null,null,null,"${HANDLE}"]`],
    ['[{"a":1},"n",null,null,"i"]', `[{"a":1},"n",null,null,"i","${HANDLE}"]`],
    ['["a"]', `["a",null,null,null,null,"${HANDLE}"]`],
    // The data kept byte for byte, however it is written: brackets, commas and quotes in strings, numbers
    // cjson would print otherwise.
    [
      '[{"],[{":"}\\",\\\\","x":[1,{"y":"]"}]},"n"]',
      `[{"],[{":"}\\",\\\\","x":[1,{"y":"]"}]},"n",null,null,null,"${HANDLE}"]`,
    ],
    ["[[12345678901234567890.50,1e400]]", `[[12345678901234567890.50,1e400],null,null,null,null,"${HANDLE}"]`],
    // A stored handle replaced, a newer release's elements kept.
    ['[1,"a","b","c","d","OldHandleOldHand",{"x":[1,2]},"z"]', `[1,"a","b","c","d","${HANDLE}",{"x":[1,2]},"z"]`],
    ['[1,null,null,null,null,null,"later"]', `[1,null,null,null,null,"${HANDLE}","later"]`],
    [' [ 1 , "a" ] ', `[ 1 , "a" ,null,null,null,"${HANDLE}"]`],
  ];

  it.each(cases)("gives %s the handle", async (body, expected) => {
    const result = (await redis.eval(WITH_HANDLE, 0, body, HANDLE)) as string;
    expect(result).toBe(expected);
    const session = decodeRecord(FIELD, "u", withBody(result), null);
    expect(session?.handle).toBe(HANDLE);
    const [lua] = await judgeInLua([withBody(result)]);
    expect(lua?.[5]).toBe(HANDLE);
  });
});
