// Builds the web workplace (web/src) into web/dist, served by the koa app (src/api/middleware/web.ts)
// under its strict Content-Security-Policy: no inline scripts or styles, nothing from outside the
// intranet, so every asset (scripts, CSS, icons) is a file of its own under /assets/.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // data: URIs would be fonts/images outside 'self' for some directives: keep every asset a file.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
