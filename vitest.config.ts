import { defineConfig } from 'vitest/config';

// One config for every project: `vitest run --dir <project>` picks the project's specs.
// Decorators: vite's esbuild transform reads each project's tsconfig (experimentalDecorators).
export default defineConfig({
  resolve: {
    alias: [{ find: /^@s2g\/([a-z-]+)$/, replacement: new URL('./libs/$1/src/index.ts', import.meta.url).pathname }],
  },
  test: {
    include: ['**/*.spec.ts', '**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    passWithNoTests: true,
    pool: 'forks',
    reporters: ['default'],
  },
});
