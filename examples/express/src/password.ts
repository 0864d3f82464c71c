/** The example's whole credential check: one shared password, compared in constant time. Use your user database. */
import { timingSafeEqual } from "node:crypto";

const PASSWORD = Buffer.from(process.env.EXAMPLE_PASSWORD ?? "let me in");

export function passwordMatches(given: unknown): boolean {
  if (typeof given !== "string") return false;
  const candidate = Buffer.from(given);
  return candidate.length === PASSWORD.length && timingSafeEqual(candidate, PASSWORD);
}
