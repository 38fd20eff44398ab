import { defineConfig } from "vitest/config";

// testcontainers' reaper (ryuk) needs an image that cannot be pulled on machines without a
// registry; the lab removes what it creates itself (labels, global teardown).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";

// The tests of a file run in a shuffled order, so that none depends on another's
// leftovers; the seed is printed at the start (DHCPLAB_TEST_SEED=N replays an order).
const seed = Number(process.env.DHCPLAB_TEST_SEED ?? Math.floor(Math.random() * 1_000_000));
// For the global setup, which prints it.
process.env.DHCPLAB_TEST_SEED_IN_USE = String(seed);

export default defineConfig({
  test: {
    // Two cores: a lab per file, two files at a time at most.
    maxWorkers: 2,
    minWorkers: 1,
    // Vitest takes the order from the root configuration, not a project's.
    sequence: { shuffle: { files: false, tests: true }, seed },
    projects: [
      {
        test: {
          name: "unit",
          include: ["{lib,relay,loadgen,kea-exporter,orchestrator}/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
