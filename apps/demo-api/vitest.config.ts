import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-redis.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file runs worker processes of its own; two at a time suit a two-core machine.
    maxWorkers: 2,
    reporters: ["default", "json"],
    outputFile: { json: "../../.test-results/demo-api.json" },
  },
});
