import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // CLI tests spawn the real command, which rebuilds its bundle first after a source edit
    // (about a second on a loaded 2-core machine) and some tests run the tsx fallback.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
