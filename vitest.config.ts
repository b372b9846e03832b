import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and peers; two cores run two files at a time well.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
