/**
 * `pnpm bench [--quick] [--only reads,writes,...] [--out dir]`: runs the
 * benchmarks and writes docs/benchmarks.md and docs/benchmarks.json. Every
 * suite runs by default; the `cluster` suite starts a loopback Redis Cluster
 * beside the single server (`--only cluster` runs it alone).
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Mode } from "./modes.js";
import { runBenchmarks, SUITES, type SuiteName } from "./run.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    tiny: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string" },
  },
});
const mode: Mode = values.tiny ? "tiny" : values.quick ? "quick" : "full";
const suites = values.only?.split(",").map((name) => name.trim()) as SuiteName[] | undefined;
for (const name of suites ?? []) {
  if (!(name in SUITES)) {
    console.error(`unknown suite ${name}; suites: ${Object.keys(SUITES).join(", ")}`);
    process.exit(64);
  }
}
const outDir = values.out ?? fileURLToPath(new URL("../../../docs/", import.meta.url));
const command = `pnpm bench${mode === "full" ? "" : ` --${mode}`}${values.only ? ` --only ${values.only}` : ""}`;

const { figures, markdownPath } = await runBenchmarks({ mode, suites, outDir, command });
for (const figure of figures) {
  const verdict = figure.pass === null ? "" : figure.pass ? "  met" : "  MISSED";
  const ratio = figure.ratio === null ? "" : `  ${figure.ratio.toFixed(2)}×`;
  console.log(
    `${figure.figure.padEnd(58)} ${Math.round(figure.ours).toLocaleString("en").padStart(10)} ${figure.unit}${ratio}${verdict}`,
  );
}
console.log(`\nwritten: ${markdownPath}`);
