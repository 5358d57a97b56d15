import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests run the real llama.cpp build and synthetic models; they are slow on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 1_800_000,
    globalSetup: ['test/global-setup.ts'],
    // Heavy end-to-end files share one machine with 2 cores: run files one at a time.
    fileParallelism: false,
  },
});
