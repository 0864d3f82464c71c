/**
 * The session cookie: httpOnly, SameSite=Lax, Path=/. Over HTTPS (secure
 * cookies on) it is `__Host-ms_session`: the prefix makes browsers accept it
 * only with Secure, Path=/ and no Domain, so neither a sibling subdomain nor
 * a plain-HTTP page can plant or overwrite it. Without HTTPS a browser would
 * drop a `__Host-` cookie, so the plain name `ms_session` is used there.
 * Whoever reads or clears the cookie asks this object for the name in force.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

export const PLAIN_COOKIE_NAME = "ms_session";
export const SECURE_COOKIE_NAME = "__Host-ms_session";

export interface SessionCookie {
  readonly name: string;
  read(request: FastifyRequest): string | undefined;
  set(reply: FastifyReply, token: string, maxAgeSeconds: number): void;
  clear(reply: FastifyReply): void;
}

export function sessionCookie(secure: boolean): SessionCookie {
  const name = secure ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME;
  const attributes = { path: "/", httpOnly: true, sameSite: "lax", secure } as const;
  return {
    name,
    read: (request) => request.cookies[name],
    set: (reply, token, maxAgeSeconds) => void reply.setCookie(name, token, { ...attributes, maxAge: maxAgeSeconds }),
    clear: (reply) => void reply.clearCookie(name, attributes),
  };
}
