import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file injects faults into processes of its own and measures latencies: one file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: "../../.test-results/fault-suite.json" },
  },
});
