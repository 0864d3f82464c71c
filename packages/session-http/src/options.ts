/**
 * The options of the HTTP layer, shared by the Fastify and Express plugins:
 * one object, defaults in one frozen table, validated once at construction
 * with messages that name the option and the value received.
 */
import { type AnySessionStore, InvalidOptionError } from "@multisession/session-core";
import { COOKIE_NAME_PATTERN } from "./cookie.js";
import { parseAllowedOrigin } from "./csrf.js";

export interface SessionHttpOptions {
  /** The store sessions live in; its `absoluteTimeoutMs` is the cookie's Max-Age. */
  store: AnySessionStore;
  /**
   * Production: the cookie is `Secure` and named with the `__Host-` prefix,
   * so browsers send it over HTTPS only and no subdomain can plant it.
   * @default process.env.NODE_ENV === "production"
   */
  production?: boolean;
  /**
   * The cookie's name (the `__Host-` prefix is added in production).
   * @default "ms_session"
   */
  cookieName?: string;
  /**
   * Origins, besides the request's own, allowed to send cookie-authenticated
   * writes and logins, e.g. `["https://app.example.com"]`.
   * @default []
   */
  allowedOrigins?: readonly string[];
}

export const HTTP_DEFAULTS = Object.freeze({
  cookieName: "ms_session",
  allowedOrigins: Object.freeze([] as string[]),
});

export interface ResolvedHttpOptions {
  store: AnySessionStore;
  production: boolean;
  cookieName: string;
  allowedOrigins: ReadonlySet<string>;
}

export function resolveHttpOptions(options: SessionHttpOptions): ResolvedHttpOptions {
  if (options === null || typeof options !== "object") {
    throw new InvalidOptionError("(options)", "an object with a store", options);
  }
  const { store } = options;
  if (store === null || typeof store !== "object" || typeof store.authenticate !== "function") {
    throw new InvalidOptionError("store", "a SessionStore", store);
  }
  const production = options.production ?? process.env.NODE_ENV === "production";
  if (typeof production !== "boolean") throw new InvalidOptionError("production", "a boolean", production);
  const cookieName = options.cookieName ?? HTTP_DEFAULTS.cookieName;
  if (typeof cookieName !== "string" || !COOKIE_NAME_PATTERN.test(cookieName) || cookieName.startsWith("__")) {
    throw new InvalidOptionError(
      "cookieName",
      "a cookie name of letters, digits and !#$%&'*+.^_`|~- not starting with __ (the prefix is added in production)",
      cookieName,
    );
  }
  const allowed = options.allowedOrigins ?? HTTP_DEFAULTS.allowedOrigins;
  if (!Array.isArray(allowed)) throw new InvalidOptionError("allowedOrigins", "an array of origins", allowed);
  const allowedOrigins = new Set<string>();
  for (const [index, origin] of allowed.entries()) {
    const normalized = parseAllowedOrigin(origin);
    if (normalized === null) {
      throw new InvalidOptionError(
        `allowedOrigins[${index}]`,
        'an origin: scheme, host and optional port, no path (e.g. "https://app.example.com")',
        origin,
      );
    }
    allowedOrigins.add(normalized);
  }
  return { store, production, cookieName, allowedOrigins };
}
