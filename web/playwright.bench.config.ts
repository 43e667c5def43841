import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// The measurements behind BENCHMARKS.md (npm run bench:e2e): the same browser, servers
// and fixtures as the browser tests, but nothing here is a test of behaviour: each
// prints its figures and writes them to test-results/bench/. Not part of test:e2e.
export default defineConfig({
  ...base,
  testDir: './e2e/bench',
  testMatch: '*.bench.ts',
  outputDir: './test-results/playwright-bench',
  timeout: 3_600_000,
});
