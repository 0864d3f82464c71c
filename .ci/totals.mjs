// Sums the vitest JSON reports under .test-results/ into "N passed, N failed".
// Exits non-zero when a test failed or no report was written.
import { readdirSync, readFileSync } from "node:fs";

const dir = new URL("../.test-results/", import.meta.url);
let files = [];
try {
  files = readdirSync(dir).filter((name) => name.endsWith(".json"));
} catch {}
let passed = 0;
let failed = 0;
for (const name of files) {
  const report = JSON.parse(readFileSync(new URL(name, dir), "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A file that failed to load has no failed test of its own; count it.
  if (!report.success && !report.numFailedTests) failed += Math.max(1, report.numFailedTestSuites ?? 0);
}
if (files.length === 0) failed += 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
