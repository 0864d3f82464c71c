/**
 * The queue dashboard (bull-board) at /admin/queues, behind HTTP basic auth.
 * It is only registered when credentials are configured: never open. A
 * failure in its API answers a plain 500 (bull-board's own handler would send
 * the error's message: Redis's text, a script SHA); the details go to the log
 * line of the request.
 */
import { timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { INTERNAL_ERROR_BODY } from "./server.js";

export const DASHBOARD_PATH = "/admin/queues";

export async function registerDashboard(
  app: FastifyInstance,
  queue: Queue,
  credentials: { user: string; password: string },
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: false })],
    serverAdapter,
    options: { uiConfig: { boardTitle: "multisession" } },
  });
  serverAdapter.setErrorHandler((error) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    // A refused request (bad body or query) is the client's to fix, and says so; bull-board's statuses stop at 400.
    if (status < 500) return { status: 400, body: { error: { code: "ERR_REQUEST", message: error.message } } };
    // bull-board's page reads `key`; other clients read `code` and `message`.
    return { status: 500, body: { error: { key: "ERRORS.INTERNAL_SERVER_ERROR", ...INTERNAL_ERROR_BODY.error } } };
  });

  // An encapsulated context: the auth hook guards the dashboard's routes only.
  await app.register(async (scope) => {
    scope.addHook("onError", async (request, _reply, error) => {
      request.log.error({ err: error }, "dashboard request failed");
    });
    scope.addHook("onRequest", async (request, reply) => {
      if (!authorized(request.headers.authorization, credentials)) {
        reply.header("www-authenticate", 'Basic realm="multisession queues", charset="UTF-8"');
        return reply.code(401).send({ error: { code: "UNAUTHORIZED", message: "dashboard credentials required" } });
      }
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}

function authorized(header: string | undefined, expected: { user: string; password: string }): boolean {
  if (!header?.startsWith("Basic ")) return false;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  // Compare both parts, always, in constant time.
  const userOk = safeEqual(decoded.slice(0, colon), expected.user);
  const passwordOk = safeEqual(decoded.slice(colon + 1), expected.password);
  return userOk && passwordOk;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
