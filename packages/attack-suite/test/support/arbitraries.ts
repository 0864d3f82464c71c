/**
 * Hostile inputs, as fast-check arbitraries: user ids that try to move the
 * Cluster hash tag, break the key or collide after encoding; values that
 * are not plain JSON or only look like it.
 */
import fc from "fast-check";

/** Strings a key builder might mishandle, each on its own and mixed into others. */
const NASTY_PIECES = [
  "{",
  "}",
  "}{",
  "{}",
  "usersession:{",
  "#info",
  "*",
  "?",
  "[a-z]",
  "\\",
  "\u0000",
  "\r\n",
  "\u007f",
  "\u0085",
  "\u2028",
  "\u2029",
  "\ud800",
  "\udfff",
  "\udfff\ud800",
  "\ufeff",
  "\u200b",
  "e\u0301",
  "\u00e9",
  "😀",
  "%7B",
  "../",
  "__proto__",
  "constructor",
  " ",
  ".",
  "=",
  "+/",
];

/** Any string, lone surrogates and control characters included. */
export const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary-ascii", maxLength: 40 }),
);

export const hostileUserId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: anyString },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...NASTY_PIECES), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 6 })
      .map((pieces) => pieces.join("")),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "a".repeat(256),
      "a".repeat(257),
      "é".repeat(256),
      "😀".repeat(128),
      "😀".repeat(129),
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 257, max: 200_000 }).map((n) => "x".repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, 42, {}, [], ["a"], { toString: () => "a" }, Symbol("a")) },
);

/** What JSON.stringify accepts or refuses, and values that pretend. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
  }),
  fc.constantFrom<unknown>(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -0,
    () => 1,
    Symbol("s"),
    new Error("e"),
    /re/,
    Promise.resolve(1),
  ),
  fc.integer({ min: 60, max: 5_000 }).map((depth) => {
    let nested: unknown = 1;
    for (let i = 0; i < depth; i++) nested = [nested];
    return nested;
  }),
  fc.integer({ min: 10_000, max: 40_000 }).map((n) => ({ big: "y".repeat(n) })),
);
