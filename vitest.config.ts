import { defineConfig } from "vitest/config";

/**
 * Three projects (`npm run test:unit|test:integration|test:e2e`; `npm test` runs all three):
 * unit is pure and does no I/O (test/unit/no-io.setup.ts refuses it), integration talks to
 * dynalite, fakes on 127.0.0.1, the CDK and promtool, e2e drives the local server over HTTP
 * with Alertmanager, Prometheus, Chromium and Python.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          setupFiles: ["test/unit/no-io.setup.ts"],
          // Pure tests share no state (no mocks, no env, no I/O), so one module graph per
          // worker instead of one per file: a third of the time.
          isolate: false,
        },
      },
      { extends: true, test: { name: "integration", include: ["test/integration/**/*.test.ts"] } },
      {
        extends: true,
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 60_000 },
      },
    ],
  },
});
