/**
 * Every limit on the size of what callers pass in, in one table, so that the
 * library and whatever checks input before it (the demo API's schemas) agree.
 *
 * Lengths count UTF-16 code units: JavaScript's `string.length`. A character
 * outside the Basic Multilingual Plane (most emoji) counts 2, so 128 emoji
 * are 256 units. JSON Schema's `maxLength` counts code points instead; a
 * schema that uses these numbers must count code units too (ajv's
 * `unicode: false` option), or it accepts what the library refuses.
 *
 * The size of `data` and user info is not here: it is the `maxDataBytes`
 * option, in bytes of UTF-8 JSON.
 */

const USER_ID = 256;
const SESSION_ID = 43;

/** Input limits; lengths in UTF-16 code units (`string.length`). */
export const INPUT_LIMITS = Object.freeze({
  /** A user id is 1 to this many code units. */
  userId: USER_ID,
  /** The most code units of each device field. */
  device: Object.freeze({ name: 128, platform: 32, userAgent: 512, ip: 64 }),
  /** A session id (the secret) is exactly this many base64url characters. */
  sessionId: SESSION_ID,
  /** A handle is exactly this many base64url characters. */
  handle: 16,
  /**
   * The longest bearer token: base64url of the longest user id in UTF-8 (at
   * most 3 bytes per code unit), a dot and a session id. All ASCII.
   */
  token: Math.ceil((USER_ID * 3 * 4) / 3) + 1 + SESSION_ID,
  /** How deep objects and arrays may nest in `data` and user info. */
  jsonDepth: 64,
});
