/** The built worker as a child process, for tests (see @multisession/test-kit): the package's own bin. */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { packageBin, type ServiceProcess, spawnService, startService } from "@multisession/test-kit";

export { eventually, getJson, type LogLine, launchChromium } from "@multisession/test-kit";
export type WorkerProcess = ServiceProcess;

/** What `multisession-worker` runs, found through package.json's `bin` as npm links it. */
export const WORKER_MAIN = packageBin("@multisession/worker", "multisession-worker", import.meta.url);
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../test-output/", import.meta.url));
mkdirSync(SCREENSHOT_DIR, { recursive: true });

export const spawnWorker = (env: Record<string, string>) => spawnService(WORKER_MAIN, env);
export const startWorker = (env: Record<string, string>) => startService(WORKER_MAIN, env, "worker started");
