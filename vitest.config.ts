import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // The CLI suites spawn the built binary; two workers match the 2-core machines CI runs on.
    maxWorkers: 2,
  },
});
