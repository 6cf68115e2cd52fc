import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served at /console on the API's own origin (functions/console.ts):
// every file flat under console/dist, so one path segment names it.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: '',
    // No inline script or style: the page's CSP allows only its own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
