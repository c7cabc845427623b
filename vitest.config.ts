import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Subprocess tests start several `qi` processes on two busy cores.
    testTimeout: 60_000,
    globalSetup: ["test/global-setup.ts"],
    hookTimeout: 20_000,
    // Socket tests open real listeners on 127.0.0.1; two cores, so keep the pool small.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
