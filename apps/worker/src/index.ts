/**
 * `@multisession/worker` as a library. `startCleanupWorker` runs the cleanup
 * consumer and the sweeper inside a server's own process (the small
 * deployment); the `multisession-worker` bin (main.ts) is the default.
 */

/**
 * The parts startCleanupWorker and the bin are made of, for tools that measure exactly what the worker
 * runs (multisession's bench). Not covered by semver: use startCleanupWorker.
 */
export { type CleanupWorker, type CleanupWorkerOptions, createCleanupWorker } from "./cleanup-worker.js";
export type { ReadinessCheck } from "./http/server.js";
export type { SweepSummary } from "./metrics.js";
export { createMetrics, type Metrics } from "./metrics.js";
export { WORKER_SETTINGS } from "./settings.js";
export {
  type CleanupWorkerHandle,
  type StartCleanupWorkerOptions,
  startCleanupWorker,
} from "./start-cleanup-worker.js";
export { SweepLease, type SweepLeaseOptions } from "./sweeper/lease.js";
export { createSweeper, type Sweeper, type SweeperOptions } from "./sweeper/sweeper.js";
