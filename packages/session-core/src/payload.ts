/**
 * Validation of what callers store: session `data`, the shared user info and
 * the device description. Only plain JSON survives a round trip through Redis
 * unchanged, so anything else (functions, BigInt, NaN, Dates, Maps, class
 * instances, cycles, toJSON methods) is refused with the path of the offending
 * value, rather than silently changed by JSON.stringify.
 *
 * Invariant: what is stored is exactly what was checked. `toJson` does not
 * hand the caller's value to JSON.stringify, which would read every property
 * a second time and call toJSON methods, getters and Proxy traps along the
 * way. It writes the JSON itself in the same walk that checks it, reading
 * each property once, from its descriptor, so no caller code runs: a getter,
 * a toJSON (own, hidden or inherited) or a Proxy is refused, not called.
 */
import { types } from "node:util";
import { InvalidInputError } from "./errors.js";
import { INPUT_LIMITS } from "./limits.js";

/** Plain JSON. Object properties that are undefined are accepted and dropped, as JSON.stringify does. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue | undefined };

/** What the caller says about the device; every field optional and size-limited. */
export interface Device {
  name?: string;
  platform?: string;
  userAgent?: string;
  ip?: string;
}

/** The most UTF-16 code units of each device field; the same table as `INPUT_LIMITS.device`. */
export const DEVICE_FIELD_LIMITS = INPUT_LIMITS.device;

const MAX_DEPTH = INPUT_LIMITS.jsonDepth;

/** One walk of `toJson`: the JSON so far and where it is, for the path in an error. */
interface Walk {
  json: string;
  readonly field: string;
  readonly maxBytes: number;
  /** The objects being written, outermost first: meeting one again is a cycle. */
  readonly ancestors: Set<object>;
  /** The keys and indexes from the root to the value being written. */
  readonly path: (string | number)[];
}

/**
 * The JSON of `value`, which must be plain JSON (data properties only, no
 * toJSON, nested at most 64 deep) of at most `maxBytes` bytes of UTF-8. Byte
 * for byte what JSON.stringify gives for such a value.
 */
export function toJson(value: unknown, field: string, maxBytes: number): string {
  const walk: Walk = { json: "", field, maxBytes, ancestors: new Set(), path: [] };
  write(value, walk);
  const bytes = Buffer.byteLength(walk.json, "utf8");
  if (bytes > maxBytes) {
    throw new InvalidInputError(field, `is ${bytes} bytes of JSON, over the limit of ${maxBytes} (maxDataBytes)`);
  }
  return walk.json;
}

function refuse(walk: Walk, reason: string): never {
  let path = walk.field;
  for (const step of walk.path) path += typeof step === "number" ? `[${step}]` : `.${step}`;
  throw new InvalidInputError(path, reason);
}

function write(value: unknown, walk: Walk): void {
  switch (typeof value) {
    case "string":
      walk.json += JSON.stringify(value);
      break;
    case "boolean":
      walk.json += value ? "true" : "false";
      break;
    case "number":
      if (!Number.isFinite(value)) refuse(walk, `is not JSON-serialisable (received ${value})`);
      walk.json += String(value);
      break;
    case "object":
      if (value === null) walk.json += "null";
      else writeObject(value, walk);
      break;
    default:
      refuse(walk, `is not JSON-serialisable (received a ${typeof value})`);
  }
  // A UTF-16 code unit is at least one byte of UTF-8, so past this the bytes are over too: stop early.
  if (walk.json.length > walk.maxBytes) {
    throw new InvalidInputError(walk.field, `is over the limit of ${walk.maxBytes} bytes of JSON (maxDataBytes)`);
  }
}

function writeObject(value: object, walk: Walk): void {
  // First: on anything but a Proxy, the checks and reads below run no caller code.
  if (types.isProxy(value)) refuse(walk, "is a Proxy, not plain JSON");
  if (walk.path.length >= MAX_DEPTH) refuse(walk, `is nested deeper than ${MAX_DEPTH} levels`);
  if (walk.ancestors.has(value)) refuse(walk, "is a circular reference");
  const isArray = Array.isArray(value);
  const proto = Object.getPrototypeOf(value);
  if (isArray ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) {
    const kind = proto?.constructor?.name ?? "object";
    refuse(walk, `is a ${kind}, not a plain JSON ${isArray ? "array" : "object"}`);
  }
  // JSON.stringify would call a toJSON of the value's own (enumerable or not) or one it inherits, even one
  // planted on Object.prototype.
  const inherited = proto !== null && (Object.hasOwn(proto, "toJSON") || Object.hasOwn(Object.prototype, "toJSON"));
  if (inherited || Object.hasOwn(value, "toJSON")) {
    refuse(walk, "has a toJSON method; pass the plain JSON it stands for");
  }
  walk.ancestors.add(value);
  if (isArray) {
    const length = (value as unknown[]).length;
    walk.json += "[";
    for (let index = 0; index < length; index++) {
      if (index > 0) walk.json += ",";
      walk.path.push(index);
      write(dataProperty(value, index, walk), walk);
      walk.path.pop();
    }
    walk.json += "]";
  } else {
    walk.json += "{";
    let first = true;
    for (const key of Object.keys(value)) {
      walk.path.push(key);
      const item = dataProperty(value, key, walk);
      // JSON drops undefined properties; that is the one lossless omission we accept.
      if (item !== undefined) {
        walk.json += `${first ? "" : ","}${JSON.stringify(key)}:`;
        first = false;
        write(item, walk);
      }
      walk.path.pop();
    }
    walk.json += "}";
  }
  walk.ancestors.delete(value);
}

/** An own property's value, read from its descriptor so that no getter runs; undefined for a hole. */
function dataProperty(holder: object, key: string | number, walk: Walk): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(holder, key);
  if (descriptor === undefined) return undefined;
  if (!("value" in descriptor)) refuse(walk, "has a getter or setter; only plain data properties are stored");
  return descriptor.value;
}

/** Checks a device description and returns a copy holding only the known fields. */
export function toDevice(device: unknown): Device {
  if (device === undefined) return {};
  if (device === null || typeof device !== "object" || Array.isArray(device) || types.isProxy(device)) {
    throw new InvalidInputError("device", "must be an object with name, platform, userAgent or ip");
  }
  const result: Device = {};
  for (const key of Object.keys(device)) {
    const descriptor = Object.getOwnPropertyDescriptor(device, key) as PropertyDescriptor;
    if (!("value" in descriptor)) {
      throw new InvalidInputError(`device.${key}`, "has a getter or setter; only plain data properties are read");
    }
    const value: unknown = descriptor.value;
    if (value === undefined) continue;
    if (!Object.hasOwn(DEVICE_FIELD_LIMITS, key)) {
      throw new InvalidInputError(`device.${key}`, "is not a device field (name, platform, userAgent, ip)");
    }
    const limit = DEVICE_FIELD_LIMITS[key as keyof Device];
    if (typeof value !== "string")
      throw new InvalidInputError(`device.${key}`, `must be a string (received ${typeof value})`);
    if (value.length > limit) {
      throw new InvalidInputError(
        `device.${key}`,
        `must be at most ${limit} UTF-16 code units (received ${value.length})`,
      );
    }
    result[key as keyof Device] = value;
  }
  return result;
}
