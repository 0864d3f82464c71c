/**
 * Closing a fastify server without waiting on idle keep-alive connections:
 * once closing starts, every response says `Connection: close`, idle sockets
 * are closed at once, and whatever is still open after `timeoutMs` is cut.
 * (Node's server.close() otherwise waits for keep-alive sockets that go idle
 * after it was called, up to their keep-alive timeout.)
 */
import type { FastifyInstance } from "fastify";

export function gracefulClose(app: FastifyInstance): (timeoutMs: number) => Promise<void> {
  let closing = false;
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });
  return async (timeoutMs) => {
    closing = true;
    const done = app.close();
    app.server.closeIdleConnections();
    const timer = setTimeout(() => app.server.closeAllConnections(), timeoutMs);
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
  };
}
