import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import { ERROR_CODES, SessionError } from "../src/index.js";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const errorClasses = Object.entries(core).filter(
  ([, value]) => typeof value === "function" && value.prototype instanceof SessionError,
) as [string, new (...args: never[]) => SessionError][];

describe("error registry", () => {
  it("has unique codes", () => {
    const codes = Object.values(ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("exports one SessionError subclass per code, each carrying its code", () => {
    const samples: SessionError[] = [
      new core.SessionNotFoundError(),
      new core.SessionExpiredError(0),
      new core.SessionLimitError(3),
      new core.InvalidInputError("userId", "is bad"),
      new core.InvalidOptionError("prefix", "a string", 5),
      new core.SessionBackendError("get", new Error("down")),
      new core.SessionOutcomeUnknownError("remove", new Error("Command timed out")),
      new core.RevocationNotReplicatedError("remove", 0, 1, true),
    ];
    expect(samples.map((error) => error.code).sort()).toEqual(Object.values(ERROR_CODES).sort());
    expect(errorClasses.map(([name]) => name).sort()).toEqual(samples.map((error) => error.name).sort());
    for (const error of samples) {
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toBeInstanceOf(Error);
    }
  });

  it("documents every code and class in the README", () => {
    for (const code of Object.values(ERROR_CODES)) expect(readme).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
    for (const [name] of errorClasses) expect(readme).toContain(`\`${name}\``);
  });

  it("names the field and keeps the cause", () => {
    const input = new core.InvalidInputError("device.name", "must be a string");
    expect(input.field).toBe("device.name");
    expect(input.message).toBe("device.name must be a string");
    const cause = new Error("ECONNREFUSED");
    expect(new core.SessionBackendError("create", cause).cause).toBe(cause);
  });

  it("an unknown outcome is a backend error too, with its own code", () => {
    const error = new core.SessionOutcomeUnknownError("remove", new Error("Command timed out"));
    expect(error).toBeInstanceOf(core.SessionBackendError);
    expect(error.code).toBe("ERR_SESSION_OUTCOME_UNKNOWN");
    expect(error.operation).toBe("remove");
    expect(error.message).toBe("remove failed: Command timed out");
  });

  it("a logout short of its replicas keeps its result, out of what a logger serializes", () => {
    const secret = "x".repeat(43);
    const error = new core.RevocationNotReplicatedError("rotate", 0, 1, { sessionId: secret });
    expect(error.code).toBe("ERR_REVOCATION_NOT_REPLICATED");
    expect(error).not.toBeInstanceOf(core.SessionBackendError);
    expect({ operation: error.operation, acknowledged: error.acknowledged, required: error.required }).toEqual({
      operation: "rotate",
      acknowledged: 0,
      required: 1,
    });
    expect(error.result).toEqual({ sessionId: secret });
    expect(JSON.stringify({ ...error })).not.toContain(secret);
    expect(error.message).not.toContain(secret);
  });

  it("maps every code, and nothing else, to an HTTP status", () => {
    expect(Object.keys(core.HTTP_STATUS_OF_CODE).sort()).toEqual(Object.values(ERROR_CODES).sort());
    expect(core.httpStatusOf(new core.SessionNotFoundError())).toBe(401);
    expect(core.httpStatusOf(new core.SessionExpiredError(1))).toBe(401);
    expect(core.httpStatusOf(new core.SessionLimitError(3))).toBe(409);
    expect(core.httpStatusOf(new core.InvalidInputError("userId", "is empty"))).toBe(400);
    expect(core.httpStatusOf(new core.SessionOutcomeUnknownError("remove", new Error("timeout")))).toBe(503);
    expect(core.httpStatusOf(new core.RevocationNotReplicatedError("remove", 0, 1, true))).toBe(503);
    expect(core.httpStatusOf(new Error("anything else"))).toBe(500);
    expect(core.httpStatusOf("not even an error")).toBe(500);
    for (const status of Object.values(core.HTTP_STATUS_OF_CODE)) {
      expect(readme).toContain(`${status} for`);
    }
  });
});
