/** Logging in and out: one device, every other device, or all of them. */
import { timingSafeEqual } from "node:crypto";
import type { SessionStore } from "@multisession/session-core";
import type { FastifyInstance, FastifyReply } from "fastify";
import { deviceOf } from "../device.js";
import { API_ERROR_CODES, ApiError } from "../errors.js";
import { requireSession, SESSION_COOKIE } from "../session-auth.js";
import { sessionView } from "./views.js";

export interface AuthRoutesOptions {
  store: SessionStore;
  demoPassword: string;
  secureCookies: boolean;
}

interface LoginBody {
  userId: string;
  password: string;
  deviceName?: string;
}

const loginSchema = {
  body: {
    type: "object",
    required: ["userId", "password"],
    additionalProperties: false,
    properties: {
      userId: { type: "string", minLength: 1, maxLength: 256 },
      password: { type: "string", minLength: 1, maxLength: 1024 },
      deviceName: { type: "string", maxLength: 128 },
    },
  },
} as const;

export async function authRoutes(app: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  const { store } = options;
  const authenticated = { preHandler: requireSession(store) };
  const clearCookie = (reply: FastifyReply) => reply.clearCookie(SESSION_COOKIE, { path: "/" });

  app.post<{ Body: LoginBody }>("/auth/login", { schema: loginSchema }, async (request, reply) => {
    const { userId, password, deviceName } = request.body;
    if (!passwordMatches(password, options.demoPassword)) {
      throw new ApiError(401, API_ERROR_CODES.BAD_CREDENTIALS, "wrong user id or password");
    }
    const { token, session } = await store.create(userId, { device: deviceOf(request, deviceName) });
    reply.setCookie(SESSION_COOKIE, token, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: options.secureCookies,
      maxAge: Math.floor(store.settings.absoluteTimeoutMs / 1000),
    });
    return { token, session: sessionView(session, session.handle) };
  });

  app.post("/auth/logout", authenticated, async (request, reply) => {
    await store.remove(request.caller.userId, request.caller.sessionId);
    clearCookie(reply);
    return reply.code(204).send();
  });

  app.post("/auth/logout-others", authenticated, async (request) => {
    return { removed: await store.removeOthers(request.caller.userId, request.caller.sessionId) };
  });

  app.post("/auth/logout-all", authenticated, async (request, reply) => {
    const removed = await store.removeAll(request.caller.userId);
    clearCookie(reply);
    return { removed };
  });
}

/** The demo's whole credential check: one shared password, compared in constant time. */
function passwordMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
