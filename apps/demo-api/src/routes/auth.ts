/** Logging in and out: one device, every other device, or all of them. */
import { timingSafeEqual } from "node:crypto";
import { INPUT_LIMITS } from "@multisession/session-core";
import type { FastifyInstance, FastifyReply } from "fastify";
import { deviceOf } from "../device.js";
import { API_ERROR_CODES, ApiError } from "../errors.js";
import { requireSession, type SessionAuth } from "../session-auth.js";
import { sessionView } from "./views.js";

export interface AuthRoutesOptions {
  auth: SessionAuth;
  demoPassword: string;
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
      // session-core's limits, in UTF-16 code units as it counts them (the app's ajv has `unicode: false`).
      userId: { type: "string", minLength: 1, maxLength: INPUT_LIMITS.userId },
      password: { type: "string", minLength: 1, maxLength: 1024 },
      deviceName: { type: "string", maxLength: INPUT_LIMITS.device.name },
    },
  },
} as const;

export async function authRoutes(app: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  const { store, cookie, throttle } = options.auth;
  const authenticated = { preHandler: requireSession(options.auth) };
  const clearCookie = (reply: FastifyReply) => cookie.clear(reply);

  app.post<{ Body: LoginBody }>("/auth/login", { schema: loginSchema }, async (request, reply) => {
    const { userId, password, deviceName } = request.body;
    await throttle.admitLogin(request, reply);
    if (!passwordMatches(password, options.demoPassword)) {
      await throttle.loginFailed(request);
      throw new ApiError(401, API_ERROR_CODES.BAD_CREDENTIALS, "wrong user id or password");
    }
    const { token, session } = await store.create(userId, { device: deviceOf(request, deviceName) });
    cookie.set(reply, token, Math.floor(store.settings.absoluteTimeoutMs / 1000));
    return { token, session: sessionView(session, session.handle) };
  });

  // A new secret for the caller's session, as after a privilege change (session fixation defence). The cookie
  // is replaced when it held the rotated session; a bearer caller keeps the new token itself.
  app.post("/auth/rotate", authenticated, async (request, reply) => {
    const { userId, sessionId } = request.caller;
    const { token, session } = await store.rotate(userId, sessionId);
    if (cookie.read(request)?.endsWith(`.${sessionId}`)) {
      cookie.set(reply, token, Math.floor(store.settings.absoluteTimeoutMs / 1000));
    }
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
