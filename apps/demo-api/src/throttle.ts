/**
 * Throttling of password and token guessing, with counters in Redis (the
 * session connection) so that every API process shares them. Three limits,
 * each a fixed window of `windowMs` that starts at its first counted attempt:
 *
 * - login attempts per user id: counted BEFORE the password is checked, in
 *   one atomic INCR, so concurrent guesses from any number of processes can
 *   never check more than the limit's worth of passwords per window. A
 *   success counts too and resets nothing: an attacker's filled counter
 *   stays full, and the correct password is refused until the window ends.
 * - failed logins per client address, and failed token authentications (a
 *   token sent and refused) per client address: read before the check and
 *   counted after a failure, so a busy address (an office behind one NAT)
 *   spends nothing on successes. Requests already in flight when such a
 *   limit is reached may overshoot it by their number; the per-user limit is
 *   the strict one.
 *
 * Counting is @fastify/rate-limit's (its Redis store and Lua script); this
 * module only decides when to read and when to count. Each limiter is the
 * plugin registered in a scope of its own, so its keys are
 * `<SESSION_PREFIX>throttle:<limit>:<user id or address>`; addresses are
 * the plugin's (IPv6 by /64). A refusal is 429 ERR_TOO_MANY_ATTEMPTS with
 * Retry-After. If Redis cannot count, the request fails closed with 503
 * ERR_SESSION_BACKEND: the login or token check would need the same Redis.
 */
import rateLimit from "@fastify/rate-limit";
import { SessionBackendError } from "@multisession/session-core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Cluster, Redis } from "ioredis";
import type { ThrottleConfig } from "./config.js";
import { API_ERROR_CODES, ApiError } from "./errors.js";

export interface Throttle {
  /** Before a password is checked: refuses when the address or the user id is at its limit, else counts the attempt against the user id (`body.userId`). */
  admitLogin(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** After a wrong password: counts a failure against the address. */
  loginFailed(request: FastifyRequest): Promise<void>;
  /** Alongside a token check: refuses when the address is at its limit of failed token authentications. */
  admitToken(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** After a token was refused (401): counts a failure against the address. */
  tokenFailed(request: FastifyRequest): Promise<void>;
}

type Limiter = ReturnType<FastifyInstance["createRateLimit"]>;
type Status = Awaited<ReturnType<Limiter>>;

export async function createThrottle(
  app: FastifyInstance,
  options: { redis: Redis | Cluster; prefix: string; limits: ThrottleConfig },
): Promise<Throttle> {
  const { redis, prefix, limits } = options;
  const limiter = async (name: string, max: number, keyGenerator?: (request: FastifyRequest) => string) => {
    let check: Limiter | undefined;
    await app.register(async (scope) => {
      await scope.register(rateLimit, {
        global: false,
        redis,
        nameSpace: `${prefix}throttle:${name}:`,
        max,
        timeWindow: limits.windowMs,
        skipOnError: false,
        ...(keyGenerator ? { keyGenerator } : {}),
      });
      check = scope.createRateLimit();
    });
    return check as Limiter;
  };
  const loginsPerUser = await limiter(
    "login-user",
    limits.loginsPerUser,
    (request) => (request.body as { userId: string }).userId,
  );
  const loginFailuresPerAddress = await limiter("login-address", limits.loginFailuresPerAddress);
  const tokenFailuresPerAddress = await limiter("token-address", limits.tokenFailuresPerAddress);

  return {
    async admitLogin(request, reply) {
      refuseIf(reply, await peek(loginFailuresPerAddress, request));
      const counted = await count(loginsPerUser, request);
      if (!counted.isAllowed && counted.isExceeded) refuse(reply, counted);
    },
    async loginFailed(request) {
      await count(loginFailuresPerAddress, request);
    },
    async admitToken(request, reply) {
      refuseIf(reply, await peek(tokenFailuresPerAddress, request));
    },
    async tokenFailed(request) {
      await count(tokenFailuresPerAddress, request);
    },
  };
}

async function peek(limiter: Limiter, request: FastifyRequest): Promise<Status> {
  return guarded(() => limiter(request, { increment: false }));
}

async function count(limiter: Limiter, request: FastifyRequest): Promise<Status> {
  return guarded(() => limiter(request));
}

async function guarded(call: () => Promise<Status>): Promise<Status> {
  try {
    return await call();
  } catch (error) {
    throw new SessionBackendError("throttle", error);
  }
}

/** After a read: the limit is reached once `max` attempts were counted. */
function refuseIf(reply: FastifyReply, status: Status): void {
  if (!status.isAllowed && status.remaining === 0) refuse(reply, status);
}

function refuse(reply: FastifyReply, status: Status & { isAllowed: false }): never {
  reply.header("retry-after", Math.max(1, status.ttlInSeconds));
  throw new ApiError(
    429,
    API_ERROR_CODES.TOO_MANY_ATTEMPTS,
    "too many attempts; try again after the Retry-After delay",
  );
}
