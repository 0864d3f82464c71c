export { launchChromium } from "./browser.js";
export { seededRandom } from "./seeded-random.js";
export {
  eventually,
  getJson,
  type LogLine,
  packageBin,
  type ServiceProcess,
  spawnService,
  startService,
} from "./service-process.js";
