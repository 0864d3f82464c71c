/**
 * `app.use(sessionErrors())`, after your routes: session errors
 * (session-core's and SessionHttpError) answer with `httpStatusOf(error)`
 * and `{ error: { code, message } }`; a store failure is a 503 whose message
 * never carries Redis's text (hand `log` a logger to record it). Any other
 * error goes on to the next error handler.
 */
import { sessionErrorAnswer } from "@multisession/session-http";
import type { ErrorRequestHandler, Request } from "express";

export interface SessionErrorsOptions {
  /** Called with each 5xx session error, whose text the client is not shown. @default no logging */
  log?: (error: unknown, req: Request) => void;
}

export function sessionErrors(options: SessionErrorsOptions = {}): ErrorRequestHandler {
  return (error, req, res, next) => {
    const answer = sessionErrorAnswer(error);
    if (!answer || res.headersSent) {
      next(error);
      return;
    }
    if (answer.log) options.log?.(error, req);
    res.status(answer.status).json(answer.body);
  };
}
