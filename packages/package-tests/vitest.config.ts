import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // npm installs from the registry and esbuild bundles: minutes on a loaded machine, not seconds.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ["default", "json"],
    outputFile: { json: "../../.test-results/package-tests.json" },
  },
});
