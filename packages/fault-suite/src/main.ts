/**
 * `pnpm faults [--long] [--only name,name]`: runs every scenario (or those
 * named) one after another, progress on stderr, then writes
 * `docs/reliability.md` and exits 1 if any invariant was violated.
 * The short form is what the tests run in CI; `--long` runs more cycles and
 * more operations.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { writeReport } from "./report.js";
import type { Form, Scenario, ScenarioResult } from "./scenario.js";
import { SCENARIOS } from "./scenarios/index.js";

const REPORT_PATH = fileURLToPath(new URL("../../../docs/reliability.md", import.meta.url));

function parseArguments(argv: string[]): { form: Form; only: string[] | null } {
  let form: Form = "short";
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === "--long") form = "long";
    else if (argument === "--only") only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (argument?.startsWith("--only=")) only = argument.slice("--only=".length).split(",").filter(Boolean);
    else throw new Error(`unknown argument ${argument}; use --long and --only <scenario,...>`);
  }
  for (const name of only ?? []) {
    if (!(name in SCENARIOS)) throw new Error(`no scenario ${name}; there are ${Object.keys(SCENARIOS).join(", ")}`);
  }
  return { form, only };
}

function environment(): string {
  let redis = "redis-server";
  try {
    redis = execFileSync("redis-server", ["--version"], { encoding: "utf8" }).match(/v=(\S+)/)?.[0] ?? redis;
  } catch {
    // Reported as is.
  }
  return `Node ${process.version}, Redis ${redis.replace("v=", "")}, ${availableParallelism()} cores`;
}

const started = performance.now();
const log = (message: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);

const { form, only } = parseArguments(process.argv.slice(2));
const startedAt = new Date();
const results: ScenarioResult[] = [];
for (const [name, scenario] of Object.entries(SCENARIOS) as [string, Scenario][]) {
  if (only && !only.includes(name)) continue;
  log(`${name}: starting (${form} form)`);
  const result = await scenario({ form, log });
  results.push(result);
  log(
    `${name}: ${result.operations} operations, ${result.faults.count} faults, ${result.violations.length} violations`,
  );
}

const command = form === "long" ? "pnpm faults --long" : "pnpm faults";
writeReport(REPORT_PATH, results, { form, command, startedAt, environment: environment() });
log(`wrote ${REPORT_PATH}`);
const violations = results.reduce((sum, result) => sum + result.violations.length, 0);
if (violations > 0) {
  log(`${violations} violations`);
  process.exitCode = 1;
}
