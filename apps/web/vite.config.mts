import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The dashboard is built into dist/web, which the API app serves at / (libs/platform/src/bootstrap.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Sizes are reported in the README; the gzip figure is measured with gzip itself.
    reportCompressedSize: false,
    rolldownOptions: {
      // TanStack Table marks its files 'use client' (for React Server Components); meaningless in a plain SPA.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
