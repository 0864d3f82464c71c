/**
 * The queue dashboard (bull-board) at /admin/queues, behind HTTP basic auth.
 * It is only registered when credentials are configured: never open.
 */
import { timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";

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

  // An encapsulated context: the auth hook guards the dashboard's routes only.
  await app.register(async (scope) => {
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
