/**
 * The session cookie: HttpOnly, SameSite=Lax, Path=/, Max-Age the store's
 * absolute timeout. In production it is also Secure and named
 * `__Host-<name>`: browsers take a `__Host-` cookie only with Secure,
 * Path=/ and no Domain, so neither a sibling subdomain nor a plain-HTTP page
 * can plant or overwrite it. Outside production (plain HTTP on a developer's
 * machine) a browser would drop such a cookie, so the plain name is used.
 *
 * The `Set-Cookie` values are written here and the `Cookie` header is read
 * here, so both plugins need no cookie library and agree byte for byte.
 */

/** RFC 6265's cookie-name characters (an HTTP token). */
export const COOKIE_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** What a token may hold (base64url, a dot): nothing a cookie value would need to escape. */
const TOKEN_PATTERN = /^[A-Za-z0-9_.-]+$/;

export interface SessionCookie {
  /** The name in force: `__Host-<name>` in production, else `<name>`. */
  readonly name: string;
  readonly secure: boolean;
  readonly maxAgeSeconds: number;
  /** The token the request's `Cookie` header carries under this name, if any. */
  read(cookieHeader: string | undefined): string | undefined;
  /** The `Set-Cookie` value that stores `token`. */
  serialize(token: string): string;
  /** The `Set-Cookie` value that makes the browser drop the cookie. */
  clearing(): string;
}

export function sessionCookie(options: { name: string; secure: boolean; maxAgeSeconds: number }): SessionCookie {
  const name = options.secure ? `__Host-${options.name}` : options.name;
  const attributes = `Path=/; HttpOnly; SameSite=Lax${options.secure ? "; Secure" : ""}`;
  const maxAgeSeconds = Math.max(0, Math.floor(options.maxAgeSeconds));
  return {
    name,
    secure: options.secure,
    maxAgeSeconds,
    read: (cookieHeader) => readCookie(cookieHeader, name),
    serialize(token) {
      // Tokens are base64url and a dot; anything else is a bug upstream, never something to write into a header.
      if (!TOKEN_PATTERN.test(token)) throw new TypeError("a session token holds only base64url characters and a dot");
      return `${name}=${token}; Max-Age=${maxAgeSeconds}; ${attributes}`;
    },
    clearing: () => `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${attributes}`,
  };
}

/** The first value of cookie `name` in a `Cookie` header; quotes around it are dropped, as RFC 6265 allows. */
export function readCookie(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const pair of cookieHeader.split(";")) {
    const equals = pair.indexOf("=");
    if (equals === -1 || pair.slice(0, equals).trim() !== name) continue;
    let value = pair.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value === "" ? undefined : value;
  }
  return undefined;
}

/**
 * The response's Set-Cookie values with `setCookie` in place of any earlier
 * value for the same cookie: a response that clears a stale cookie and then
 * logs in must send one Set-Cookie for that name (RFC 6265 4.1.1), not two.
 */
export function replaceSetCookie(existing: unknown, setCookie: string): string[] {
  const name = setCookie.slice(0, setCookie.indexOf("=") + 1);
  const values = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  return [...values.filter((value) => !value.startsWith(name)), setCookie];
}
