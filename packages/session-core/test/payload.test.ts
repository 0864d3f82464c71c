import { describe, expect, it } from "vitest";
import { INPUT_LIMITS, InvalidInputError } from "../src/index.js";
import { toDevice, toJson } from "../src/payload.js";

function refusal(action: () => unknown): InvalidInputError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error("expected a refusal");
}

describe("toJson", () => {
  it("writes byte for byte what JSON.stringify writes for plain JSON", () => {
    const shared = [1, "x"];
    const values: unknown[] = [
      null,
      true,
      false,
      0,
      -0,
      1e21,
      5e-324,
      -1.5,
      "",
      'quote " backslash \\ newline \n tab \t nul \u0000',
      "é 日本 \u{1f600} lone \ud800 \udfff",
      [],
      {},
      [null, [[]], {}],
      { b: 1, a: 2, 10: "ten", 2: "two", "": "empty", __proto__x: 1 },
      { nested: { deeper: { list: [1, { k: "v" }] } }, dropped: undefined },
      { one: shared, two: shared },
      Object.assign(Object.create(null), { free: "of a prototype" }),
      JSON.parse('{"__proto__": {"polluted": true}}'),
    ];
    for (const value of values) expect(toJson(value, "data", 1 << 20)).toBe(JSON.stringify(value));
  });

  it("counts the limit in bytes of UTF-8 and stops early on a huge value", () => {
    expect(toJson("é".repeat(10), "data", 22)).toBe(`"${"é".repeat(10)}"`);
    expect(refusal(() => toJson("é".repeat(10), "data", 21)).message).toMatch(/22 bytes of JSON, over the limit of 21/);
    const error = refusal(() => toJson(new Array(10_000_000).fill(0), "userInfo", 1024));
    expect(error.field).toBe("userInfo");
    expect(error.message).toMatch(/over the limit of 1024/);
  });

  it.each([
    ["a hole in an array", Object.assign(new Array(3), { 0: 1, 2: 3 }), "data[1]", /received a undefined/],
    ["undefined in an array", [undefined], "data[0]", /received a undefined/],
    ["a setter without a getter", Object.defineProperty({}, "x", { set() {}, enumerable: true }), "data.x", /setter/],
    ["a boxed number", { n: new Number(1) }, "data.n", /is a Number/],
    ["an array subclass", { list: new (class List extends Array {})() }, "data.list", /is a List, not a plain/],
    ["a Buffer", { b: Buffer.from("x") }, "data.b", /is a Buffer/],
    ["a Date, by name", { at: new Date(0) }, "data.at", /is a Date, not a plain JSON object/],
    ["a key with a dot in its path", { "a.b": [Symbol("s")] }, "data.a.b[0]", /received a symbol/],
  ])("refuses %s", (_, value, field, message) => {
    const error = refusal(() => toJson(value, "data", 1 << 20));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});

describe("toDevice", () => {
  it("counts UTF-16 code units, as INPUT_LIMITS says: an emoji counts two", () => {
    const limit = INPUT_LIMITS.device.name;
    expect(toDevice({ name: "😀".repeat(limit / 2) }).name).toHaveLength(limit);
    expect(refusal(() => toDevice({ name: `${"😀".repeat(limit / 2)}x` })).message).toMatch(
      `at most ${limit} UTF-16 code units`,
    );
  });

  it("refuses a Proxy and a getter without running them", () => {
    let ran = false;
    const trap = () => {
      ran = true;
      return "x";
    };
    expect(refusal(() => toDevice(new Proxy({}, { ownKeys: () => ["name"], get: trap }))).field).toBe("device");
    expect(
      refusal(() =>
        toDevice({
          get name() {
            return trap();
          },
        }),
      ).field,
    ).toBe("device.name");
    expect(ran).toBe(false);
  });
});
