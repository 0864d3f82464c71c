/**
 * The packages published to npm, each with the module that proves an install
 * works: `smoke` runs a whole session round trip against Redis under both
 * `import` and `require`; the others are loaded both ways and must export the
 * names listed. Add a package here when it follows docs/packaging.md.
 */
export interface Publishable {
  name: string;
  /** Its folder, from the repository root. */
  dir: string;
  /** Names both its ESM and its CommonJS entry must export. */
  exports: string[];
}

export const PUBLISHABLE: Publishable[] = [
  {
    name: "@multisession/session-core",
    dir: "packages/session-core",
    exports: ["SessionStore", "SESSION_CONNECTION_OPTIONS", "CLEANUP_QUEUE_NAME", "httpStatusOf", "SessionError"],
  },
  {
    name: "@multisession/session-http",
    dir: "packages/session-http",
    exports: ["SessionHttp", "readToken", "sessionCookie", "originAllowed", "deviceNameOf", "DEVICE_ROUTES"],
  },
  {
    name: "@multisession/fastify",
    dir: "packages/fastify",
    exports: ["multisession", "default", "requireSession", "deviceRoutes", "SessionHttpError"],
  },
  {
    name: "@multisession/express",
    dir: "packages/express",
    exports: ["multisession", "requireSession", "deviceRouter", "sessionErrors", "SessionHttpError"],
  },
  {
    name: "@multisession/service-kit",
    dir: "packages/service-kit",
    exports: ["connectRedis", "createLogger", "closeOnSignals", "loadOrExit"],
  },
  {
    name: "@multisession/worker",
    dir: "apps/worker",
    exports: ["startCleanupWorker", "createCleanupWorker", "WORKER_SETTINGS"],
  },
];
