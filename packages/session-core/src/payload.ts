/**
 * Validation of what callers store: session `data`, the shared user info and
 * the device description. Only plain JSON survives a round trip through Redis
 * unchanged, so anything else (functions, BigInt, NaN, Dates, Maps, class
 * instances, cycles) is refused with the path of the offending value, rather
 * than silently changed by JSON.stringify.
 */
import { InvalidInputError } from "./errors.js";

/** Plain JSON. Object properties that are undefined are accepted and dropped, as JSON.stringify does. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue | undefined };

/** What the caller says about the device; every field optional and size-limited. */
export interface Device {
  name?: string;
  platform?: string;
  userAgent?: string;
  ip?: string;
}

export const DEVICE_FIELD_LIMITS = Object.freeze({ name: 128, platform: 32, userAgent: 512, ip: 64 });

const MAX_DEPTH = 64;

/** Serialises `value` after checking it is plain JSON of at most `maxBytes` bytes. */
export function toJson(value: unknown, field: string, maxBytes: number): string {
  assertJsonValue(value, field, 0, new Set());
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > maxBytes) {
    throw new InvalidInputError(field, `is ${bytes} bytes of JSON, over the limit of ${maxBytes} (maxDataBytes)`);
  }
  return json;
}

function assertJsonValue(value: unknown, path: string, depth: number, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new InvalidInputError(path, `is not JSON-serialisable (received ${value})`);
      return;
    case "object":
      break;
    default:
      throw new InvalidInputError(path, `is not JSON-serialisable (received a ${typeof value})`);
  }
  if (value === null) return;
  if (depth >= MAX_DEPTH) throw new InvalidInputError(path, `is nested deeper than ${MAX_DEPTH} levels`);
  if (seen.has(value)) throw new InvalidInputError(path, "is a circular reference");
  seen.add(value);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      assertJsonValue(value[index], `${path}[${index}]`, depth + 1, seen);
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = proto?.constructor?.name ?? "object";
      throw new InvalidInputError(path, `is a ${kind}, not a plain JSON object`);
    }
    for (const [key, item] of Object.entries(value)) {
      // JSON drops undefined properties; that is the one lossless omission we accept.
      if (item !== undefined) assertJsonValue(item, `${path}.${key}`, depth + 1, seen);
    }
  }
  seen.delete(value);
}

/** Checks a device description and returns a copy holding only the known fields. */
export function toDevice(device: unknown): Device {
  if (device === undefined) return {};
  if (device === null || typeof device !== "object" || Array.isArray(device)) {
    throw new InvalidInputError("device", "must be an object with name, platform, userAgent or ip");
  }
  const result: Device = {};
  for (const [key, value] of Object.entries(device)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(DEVICE_FIELD_LIMITS, key)) {
      throw new InvalidInputError(`device.${key}`, "is not a device field (name, platform, userAgent, ip)");
    }
    const limit = DEVICE_FIELD_LIMITS[key as keyof Device];
    if (typeof value !== "string")
      throw new InvalidInputError(`device.${key}`, `must be a string (received ${typeof value})`);
    if (value.length > limit) {
      throw new InvalidInputError(`device.${key}`, `must be at most ${limit} characters (received ${value.length})`);
    }
    result[key as keyof Device] = value;
  }
  return result;
}
