import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 180_000,
    reporters: ["default", "json"],
    outputFile: { json: "../../.test-results/api-docs.json" },
  },
});
