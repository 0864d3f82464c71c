/** Logging in (the demo's password check, then the plugin's `reply.logIn`), rotating and logging out. */
import { timingSafeEqual } from "node:crypto";
import { requireSession } from "@multisession/fastify";
import { INPUT_LIMITS } from "@multisession/session-core";
import { deviceView } from "@multisession/session-http";
import type { FastifyInstance } from "fastify";
import { API_ERROR_CODES, ApiError } from "../errors.js";
import type { Throttle } from "../throttle.js";

export interface AuthRoutesOptions {
  throttle: Throttle;
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
  const { throttle } = options;
  const authenticated = { preHandler: requireSession };

  app.post<{ Body: LoginBody }>(
    "/auth/login",
    { schema: loginSchema, config: { tokenThrottle: false } },
    async (request, reply) => {
      const { userId, password, deviceName } = request.body;
      await throttle.admitLogin(request, reply);
      if (!passwordMatches(password, options.demoPassword)) {
        await throttle.loginFailed(request);
        throw new ApiError(401, API_ERROR_CODES.BAD_CREDENTIALS, "wrong user id or password");
      }
      // The plugin names the device from the user agent when the user gave no name, and sets the cookie.
      const { token, session } = await reply.logIn(userId, { deviceName });
      return { token, session: deviceView(session, session.handle) };
    },
  );

  // A new secret for the caller's session, as after a privilege change (session fixation defence). The cookie
  // is replaced when it carried the session; a bearer caller keeps the new token itself.
  app.post("/auth/rotate", authenticated, async (_, reply) => {
    const { token, session } = await reply.rotateSession();
    return { token, session: deviceView(session, session.handle) };
  });

  app.post("/auth/logout", authenticated, async (_, reply) => {
    await reply.logOut();
    return reply.code(204).send();
  });
}

/** The demo's whole credential check: one shared password, compared in constant time. */
function passwordMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
