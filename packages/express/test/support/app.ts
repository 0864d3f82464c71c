/** A small Express app on the middleware, as a user would write it, served on a loopback port, and a client for it. */
import type { AddressInfo } from "node:net";
import type { SessionStore } from "@multisession/session-core";
import type { SessionHttpOptions } from "@multisession/session-http";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { deviceRouter, multisession, requireSession, sessionErrors } from "../../src/index.js";

export interface TestServer {
  url: string;
  /** One request; the answer's JSON body (null when none) and its Set-Cookie values. */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

export interface CallOptions {
  token?: string;
  cookie?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  body: any;
  cookies: string[];
}

export async function startApp(
  store: SessionStore,
  options: Partial<SessionHttpOptions> = {},
  configure?: (app: Express) => void,
  /** Sees every error the routes pass on, before sessionErrors answers it. */
  errorSpy?: (error: unknown) => void,
): Promise<TestServer> {
  const app = express();
  app.use(multisession({ store, production: false, ...options }));
  configure?.(app);
  app.get("/public", (req, res) => {
    res.json({ userId: req.session?.userId ?? null });
  });
  app.get("/me", requireSession, (req, res) => {
    res.json({ userId: req.session?.userId, handle: req.session?.handle });
  });
  app.post("/me/note", requireSession, (_req, res) => {
    res.json({ saved: true });
  });
  app.post("/login", express.json(), async (req, res) => {
    const { token, session } = await res.logIn(req.body.userId, { deviceName: req.body.deviceName });
    res.json({ token, handle: session.handle, device: session.device });
  });
  app.post("/logout", async (_req, res) => {
    res.json({ removed: await res.logOut() });
  });
  app.post("/rotate", requireSession, async (_req, res) => {
    const { token } = await res.rotateSession();
    res.json({ token });
  });
  app.use("/account", deviceRouter());
  app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    errorSpy?.(error);
    next(error);
  });
  app.use(sessionErrors());

  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async call(method, path, { token, cookie, body, headers = {} } = {}) {
      const sent: Record<string, string> = { ...headers };
      if (token) sent.authorization = `Bearer ${token}`;
      if (cookie) sent.cookie = cookie;
      if (body !== undefined) sent["content-type"] = "application/json";
      const response = await fetch(`${url}${path}`, {
        method,
        headers: sent,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? JSON.parse(text) : null,
        cookies: response.headers.getSetCookie(),
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
