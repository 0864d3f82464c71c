/** The built worker as a child process, for tests (see @multisession/test-kit): the package's own bin. */
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ServiceProcess, spawnService, startService } from "@multisession/test-kit";

export { eventually, getJson, type LogLine, launchChromium } from "@multisession/test-kit";
export type WorkerProcess = ServiceProcess;

const PACKAGE_DIR = new URL("../../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("package.json", PACKAGE_DIR), "utf8")) as {
  bin: Record<string, string>;
};
const bin = manifest.bin["multisession-worker"];
if (!bin) throw new Error("package.json has no multisession-worker bin");
/** What `multisession-worker` runs, found through package.json's `bin` as npm links it. */
export const WORKER_MAIN = fileURLToPath(new URL(bin, PACKAGE_DIR));
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../test-output/", import.meta.url));
mkdirSync(SCREENSHOT_DIR, { recursive: true });

export const spawnWorker = (env: Record<string, string>) => spawnService(WORKER_MAIN, env);
export const startWorker = (env: Record<string, string>) => startService(WORKER_MAIN, env, "worker started");
