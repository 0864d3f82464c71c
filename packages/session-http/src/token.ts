/**
 * Where a request's token comes from: `Authorization: Bearer <token>` first
 * (API clients, mobile apps), else the session cookie (browsers). Which one
 * it was matters: only a cookie is sent by a browser on its own, so only a
 * cookie-authenticated write needs the CSRF origin check, and only a cookie
 * is cleared when its session is gone.
 */
import type { SessionCookie } from "./cookie.js";

export type TokenSource = "bearer" | "cookie";

export interface RequestToken {
  token: string;
  via: TokenSource;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The request's token, or null when it sends none. Another `Authorization` scheme is not ours: the cookie is read. */
export function readToken(
  headers: { authorization?: string | undefined; cookie?: string | undefined },
  cookie: SessionCookie,
): RequestToken | null {
  const bearer = headers.authorization === undefined ? null : BEARER.exec(headers.authorization);
  if (bearer?.[1]) return { token: bearer[1], via: "bearer" };
  const fromCookie = cookie.read(headers.cookie);
  return fromCookie === undefined ? null : { token: fromCookie, via: "cookie" };
}
