import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file starts Redis (and sometimes API processes) of its own; two cores: one file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: "../../.test-results/attack-suite.json" },
  },
});
