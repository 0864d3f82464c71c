/**
 * The CSRF rule, on top of SameSite=Lax: a write authenticated by the cookie
 * (any method but GET, HEAD and OPTIONS), and every login, must come from
 * the request's own origin or one of `allowedOrigins`. The origin is the
 * `Origin` header, else the `Referer`'s. A request with a Bearer token is
 * exempt: a browser never adds that header on its own.
 *
 * A request with neither header is let through: browsers send `Origin` on
 * every cross-origin request that is not a GET or HEAD, so such a request
 * is not a browser carrying a victim's cookie across sites (curl, a mobile
 * app, a server). `Origin: null` (a sandboxed frame, a privacy redirect) is
 * refused.
 *
 * The request's own origin is its `Host` with its scheme. A TLS-terminating
 * proxy that the framework does not trust makes an HTTPS page look like an
 * HTTP request, so an `https` origin is accepted for an `http` request of
 * the same host; the reverse (an `http` page writing to an `https` server,
 * a downgrade) is refused.
 */

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** What the origin check reads of a request. */
export interface OriginFacts {
  method: string;
  /** `http` or `https`, as the framework sees the request. */
  protocol: string;
  /** The `Host` the request was sent to (with its port), as the framework sees it. */
  host: string | undefined;
  origin: string | undefined;
  referer: string | undefined;
}

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** The origin of an absolute http(s) URL, lower case, default port dropped; null for anything else. */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

/** An `allowedOrigins` entry as an origin, or null when it is not one (a path, a query, another scheme). */
export function parseAllowedOrigin(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
    if (parsed.pathname !== "/" || parsed.search || parsed.hash || parsed.username || parsed.password) return null;
    return parsed.origin;
  } catch {
    return null;
  }
}

/** True when the request may go on: its stated origin is its own or an allowed one, or it states none. */
export function originAllowed(request: OriginFacts, allowedOrigins: ReadonlySet<string>): boolean {
  const stated = request.origin ?? (request.referer === undefined ? undefined : (originOf(request.referer) ?? "null"));
  if (stated === undefined) return true;
  const origin = originOf(stated);
  if (origin === null) return false;
  if (allowedOrigins.has(origin)) return true;
  if (!request.host) return false;
  const own = originOf(`${request.protocol}://${request.host}`);
  if (own === null) return false;
  if (origin === own) return true;
  // The same host over https, seen as http behind a proxy the framework does not trust.
  return request.protocol === "http" && origin === originOf(`https://${request.host}`);
}
