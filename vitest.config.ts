import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit`: pure code and the CLI's own checks, no llama.cpp needed, so they run at
 * once, even on a machine that has never built it (`npx vitest run test/writers.test.ts`).
 * `e2e`: everything that runs the patched binaries, after test/global-setup.ts has built them
 * (or found them in the cache) and handed their paths over with `inject`. `npm test` runs the
 * unit project first, then the e2e one.
 */
const UNIT = [
  'test/align.test.ts',
  'test/audio.test.ts',
  'test/cli.test.ts',
  'test/convert-cli.test.ts',
  'test/convert-types.test.ts',
  'test/cues-speech.test.ts',
  'test/cues.test.ts',
  'test/endpoint-pool.test.ts',
  'test/guards.test.ts',
  'test/mel.test.ts',
  'test/vad.test.ts',
  'test/vtt-browser.test.ts',
  'test/wer.test.ts',
  'test/windows-2h.test.ts',
  'test/windows.test.ts',
  'test/writers.test.ts',
];

export default defineConfig({
  test: {
    // End-to-end tests run the real llama.cpp build and synthetic models; they are slow on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 1_800_000,
    // Heavy end-to-end files share one machine with 2 cores: run files one at a time.
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: UNIT, globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});
