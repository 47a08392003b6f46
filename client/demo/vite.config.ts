/**
 * Vite config of the web page. `npm run build:demo` (scripts/build-demo.ts)
 * builds it into client/demo/dist, which the server serves at `/`.
 * `npx vite client/demo` serves it with hot reload; `/ws` is then proxied to
 * the collab server on port 1234 (`npm start` in another terminal).
 */
import { defineConfig } from 'vite'

export default defineConfig({
  // Relative asset URLs: the page also works when served under a path prefix.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/ws': { target: 'ws://127.0.0.1:1234', ws: true } },
  },
})
